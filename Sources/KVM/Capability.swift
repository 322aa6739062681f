import CKVM

/// A KVM capability number, as passed to KVM_CHECK_EXTENSION and KVM_ENABLE_CAP.
public struct Capability: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let userMemory = Capability(rawValue: UInt32(CKVM_CAP_USER_MEMORY))
    public static let setGuestDebug = Capability(rawValue: UInt32(CKVM_CAP_SET_GUEST_DEBUG))
    public static let syncRegs = Capability(rawValue: UInt32(CKVM_CAP_SYNC_REGS))
    public static let guestDebugHWBreakpoints = Capability(rawValue: UInt32(CKVM_CAP_GUEST_DEBUG_HW_BPS))
    public static let immediateExit = Capability(rawValue: UInt32(CKVM_CAP_IMMEDIATE_EXIT))
    public static let x86UserSpaceMSR = Capability(rawValue: UInt32(CKVM_CAP_X86_USER_SPACE_MSR))
    public static let x86MSRFilter = Capability(rawValue: UInt32(CKVM_CAP_X86_MSR_FILTER))
    public static let setGuestDebug2 = Capability(rawValue: UInt32(CKVM_CAP_SET_GUEST_DEBUG2))
    public static let exitHypercall = Capability(rawValue: UInt32(CKVM_CAP_EXIT_HYPERCALL))
    public static let disableQuirks2 = Capability(rawValue: UInt32(CKVM_CAP_DISABLE_QUIRKS2))
    public static let userMemory2 = Capability(rawValue: UInt32(CKVM_CAP_USER_MEMORY2))
    public static let memoryFaultInfo = Capability(rawValue: UInt32(CKVM_CAP_MEMORY_FAULT_INFO))
    public static let memoryAttributes = Capability(rawValue: UInt32(CKVM_CAP_MEMORY_ATTRIBUTES))
    public static let guestMemfd = Capability(rawValue: UInt32(CKVM_CAP_GUEST_MEMFD))
    public static let vmTypes = Capability(rawValue: UInt32(CKVM_CAP_VM_TYPES))
    public static let preFaultMemory = Capability(rawValue: UInt32(CKVM_CAP_PRE_FAULT_MEMORY))
    public static let guestMemfdFlags = Capability(rawValue: UInt32(CKVM_CAP_GUEST_MEMFD_FLAGS))

    public var description: String { "KVM_CAP(\(rawValue))" }
}

/// The machine type passed to KVM_CREATE_VM (x86 `KVM_X86_*_VM`).
public struct VMType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let `default` = VMType(rawValue: UInt32(CKVM_X86_DEFAULT_VM))
    public static let swProtected = VMType(rawValue: UInt32(CKVM_X86_SW_PROTECTED_VM))
    public static let sev = VMType(rawValue: UInt32(CKVM_X86_SEV_VM))
    public static let sevES = VMType(rawValue: UInt32(CKVM_X86_SEV_ES_VM))
    public static let snp = VMType(rawValue: UInt32(CKVM_X86_SNP_VM))
    public static let tdx = VMType(rawValue: UInt32(CKVM_X86_TDX_VM))

    public var description: String {
        switch self {
        case .default: return "default"
        case .swProtected: return "sw-protected"
        case .sev: return "sev"
        case .sevES: return "sev-es"
        case .snp: return "snp"
        case .tdx: return "tdx"
        default: return "type-\(rawValue)"
        }
    }
}
