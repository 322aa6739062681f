/// What this host's KVM offers, probed once (KVM_CHECK_EXTENSION on /dev/kvm and on a
/// throw-away default VM). Strategies are chosen from this, never assumed.
public struct HostCapabilities: Sendable, Equatable, Codable {
    /// KVM_GET_API_VERSION.
    public var apiVersion: Int32
    /// KVM_CAP_VM_TYPES as returned: bit n set = VM type n can be created (0 = cap absent).
    public var vmTypesMask: UInt64
    /// KVM_CAP_GUEST_MEMFD != 0.
    public var guestMemfd: Bool
    /// KVM_CAP_GUEST_MEMFD_FLAGS on a default VM: flags KVM_CREATE_GUEST_MEMFD accepts there.
    public var guestMemfdFlags: GuestMemfdFlags
    /// KVM_CAP_MEMORY_ATTRIBUTES on a default VM: attributes KVM_SET_MEMORY_ATTRIBUTES accepts.
    public var memoryAttributes: MemoryAttributes
    /// KVM_CAP_EXIT_HYPERCALL: hypercalls that can exit to user space (bit n = nr n).
    public var exitHypercallMask: UInt64
    /// KVM_CAP_X86_USER_SPACE_MSR != 0.
    public var userSpaceMSR: Bool
    /// KVM_CAP_X86_MSR_FILTER != 0.
    public var msrFilter: Bool
    /// KVM_CAP_SET_GUEST_DEBUG2: the KVM_SET_GUEST_DEBUG control bits accepted.
    public var guestDebug: GuestDebugControl
    /// KVM_CAP_SYNC_REGS: register classes kvm_run can share.
    public var syncRegs: SyncRegisterSet
    /// KVM_CAP_DISABLE_QUIRKS2: quirks that can be disabled.
    public var disableQuirks2: Quirks
    /// KVM_CAP_USER_MEMORY2 != 0 (KVM_SET_USER_MEMORY_REGION2).
    public var userMemory2: Bool
    /// KVM_CAP_MEMORY_FAULT_INFO != 0 (KVM_EXIT_MEMORY_FAULT).
    public var memoryFaultInfo: Bool
    /// KVM_CAP_PRE_FAULT_MEMORY != 0.
    public var preFaultMemory: Bool

    /// The VM types this host can create (KVM_CAP_VM_TYPES; only `.default` when it is absent).
    public var vmTypes: [VMType] {
        if vmTypesMask == 0 { return [.default] }
        return (0..<64).filter { vmTypesMask & (1 << UInt64($0)) != 0 }.map { VMType(rawValue: UInt32($0)) }
    }
    /// SEV-SNP guests can be created here (VM type 4).
    public var snp: Bool { vmTypesMask & (1 << UInt64(VMType.snp.rawValue)) != 0 }
    /// TDX guests can be created here (VM type 5).
    public var tdx: Bool { vmTypesMask & (1 << UInt64(VMType.tdx.rawValue)) != 0 }
    /// KVM_HC_MAP_GPA_RANGE (nr 12) can exit to user space.
    public var mapGPARangeExit: Bool { exitHypercallMask & (1 << 12) != 0 }
}

extension KVMSystem {
    /// Probes the capabilities Enlighten chooses strategies from (KVM_CHECK_EXTENSION on
    /// /dev/kvm, plus GUEST_MEMFD_FLAGS and MEMORY_ATTRIBUTES on a temporary default VM).
    public func probe() throws(KVMError) -> HostCapabilities {
        let vm = try createVM(type: .default)
        return HostCapabilities(
            apiVersion: try apiVersion,
            vmTypesMask: UInt64(try check(.vmTypes)),
            guestMemfd: try vm.check(.guestMemfd) != 0,
            guestMemfdFlags: GuestMemfdFlags(rawValue: UInt64(try vm.check(.guestMemfdFlags))),
            memoryAttributes: MemoryAttributes(rawValue: UInt64(try vm.check(.memoryAttributes))),
            exitHypercallMask: UInt64(try check(.exitHypercall)),
            userSpaceMSR: try check(.x86UserSpaceMSR) != 0,
            msrFilter: try check(.x86MSRFilter) != 0,
            guestDebug: GuestDebugControl(rawValue: UInt32(truncatingIfNeeded: try check(.setGuestDebug2))),
            syncRegs: SyncRegisterSet(rawValue: UInt64(try check(.syncRegs))),
            disableQuirks2: Quirks(rawValue: UInt64(try check(.disableQuirks2))),
            userMemory2: try check(.userMemory2) != 0,
            memoryFaultInfo: try check(.memoryFaultInfo) != 0,
            preFaultMemory: try check(.preFaultMemory) != 0
        )
    }
}
