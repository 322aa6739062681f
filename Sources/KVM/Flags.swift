import CKVM

// The flag words of the KVM uapi as option sets.

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
