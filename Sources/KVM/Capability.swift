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

/// `kvm_create_guest_memfd.flags` (`GUEST_MEMFD_FLAG_*`).
public struct GuestMemfdFlags: OptionSet, Hashable, Sendable, Codable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// The fd can be mmapped by the host (`GUEST_MEMFD_FLAG_MMAP`).
    public static let mmap = GuestMemfdFlags(rawValue: CKVM_GUEST_MEMFD_FLAG_MMAP)
    /// Pages start out shared, so host faults are allowed (`GUEST_MEMFD_FLAG_INIT_SHARED`).
    public static let initShared = GuestMemfdFlags(rawValue: CKVM_GUEST_MEMFD_FLAG_INIT_SHARED)
}

/// Memslot flags (`KVM_MEM_*`).
public struct MemslotFlags: OptionSet, Hashable, Sendable, Codable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let logDirtyPages = MemslotFlags(rawValue: CKVM_MEM_LOG_DIRTY_PAGES)
    public static let readOnly = MemslotFlags(rawValue: CKVM_MEM_READONLY)
    /// The slot is backed by a guest_memfd (`KVM_MEM_GUEST_MEMFD`).
    public static let guestMemfd = MemslotFlags(rawValue: CKVM_MEM_GUEST_MEMFD)
}

/// `kvm_memory_attributes.attributes` (`KVM_MEMORY_ATTRIBUTE_*`).
public struct MemoryAttributes: OptionSet, Hashable, Sendable, Codable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let `private` = MemoryAttributes(rawValue: CKVM_MEMORY_ATTRIBUTE_PRIVATE)
}

/// `kvm_guest_debug.control` (`KVM_GUESTDBG_*`).
public struct GuestDebugControl: OptionSet, Hashable, Sendable, Codable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let enable = GuestDebugControl(rawValue: CKVM_GUESTDBG_ENABLE)
    public static let singleStep = GuestDebugControl(rawValue: CKVM_GUESTDBG_SINGLESTEP)
    public static let useSoftwareBreakpoints = GuestDebugControl(rawValue: CKVM_GUESTDBG_USE_SW_BP)
    public static let useHardwareBreakpoints = GuestDebugControl(rawValue: CKVM_GUESTDBG_USE_HW_BP)
    public static let injectDB = GuestDebugControl(rawValue: CKVM_GUESTDBG_INJECT_DB)
    public static let injectBP = GuestDebugControl(rawValue: CKVM_GUESTDBG_INJECT_BP)
    public static let blockIRQ = GuestDebugControl(rawValue: CKVM_GUESTDBG_BLOCKIRQ)
}

/// Why an MSR access exited to user space (`KVM_MSR_EXIT_REASON_*`); also the
/// KVM_CAP_X86_USER_SPACE_MSR argument selecting which failures exit.
public struct MSRExitReasons: OptionSet, Hashable, Sendable, Codable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let invalid = MSRExitReasons(rawValue: CKVM_MSR_EXIT_REASON_INVAL)
    public static let unknown = MSRExitReasons(rawValue: CKVM_MSR_EXIT_REASON_UNKNOWN)
    public static let filter = MSRExitReasons(rawValue: CKVM_MSR_EXIT_REASON_FILTER)
    public static let all: MSRExitReasons = [.invalid, .unknown, .filter]
}

/// x86 quirks that KVM_CAP_DISABLE_QUIRKS2 can turn off (`KVM_X86_QUIRK_*`).
public struct Quirks: OptionSet, Hashable, Sendable, Codable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// KVM rewrites a wrong-vendor vmcall/vmmcall in guest memory. Tests must disable it.
    public static let fixHypercallInstruction = Quirks(rawValue: CKVM_X86_QUIRK_FIX_HYPERCALL_INSN)
}

/// Register classes shared through kvm_run with KVM_CAP_SYNC_REGS (`KVM_SYNC_X86_*`).
public struct SyncRegisterSet: OptionSet, Hashable, Sendable, Codable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let registers = SyncRegisterSet(rawValue: CKVM_SYNC_X86_REGS)
    public static let specialRegisters = SyncRegisterSet(rawValue: CKVM_SYNC_X86_SREGS)
    public static let events = SyncRegisterSet(rawValue: CKVM_SYNC_X86_EVENTS)
}

/// `run->memory_fault.flags` (`KVM_MEMORY_EXIT_FLAG_*`).
public struct MemoryFaultFlags: OptionSet, Hashable, Sendable, Codable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// The faulting access was a private access.
    public static let `private` = MemoryFaultFlags(rawValue: CKVM_MEMORY_EXIT_FLAG_PRIVATE)
}

/// A vCPU's multiprocessing state (KVM_GET_MP_STATE / KVM_SET_MP_STATE).
public struct MPState: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let runnable = MPState(rawValue: UInt32(CKVM_MP_STATE_RUNNABLE))
    public static let uninitialized = MPState(rawValue: UInt32(CKVM_MP_STATE_UNINITIALIZED))
    public static let halted = MPState(rawValue: UInt32(CKVM_MP_STATE_HALTED))
}

/// General-purpose registers (KVM_GET_REGS / KVM_SET_REGS layout, `struct kvm_regs`).
public typealias Registers = kvm_regs
/// Segment and control registers (KVM_GET_SREGS / KVM_SET_SREGS layout, `struct kvm_sregs`).
public typealias SpecialRegisters = kvm_sregs
/// One segment register inside `SpecialRegisters`.
public typealias Segment = kvm_segment
/// One CPUID leaf (`struct kvm_cpuid_entry2`).
public typealias CPUIDEntry = kvm_cpuid_entry2
