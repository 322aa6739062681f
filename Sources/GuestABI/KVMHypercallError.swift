/// The errors a KVM PV hypercall reports to the guest, as negative values in RAX.
///
/// Values from Linux `include/uapi/linux/kvm_para.h` (KVM_ENOSYS 1000, the others
/// equal to the errno-base.h values: EPERM 1, EFAULT 14, EINVAL 22).
public enum KVMHypercallError: Error, Sendable, Hashable {
    /// The caller was not at CPL 0 (-KVM_EPERM).
    case notPermitted
    /// Unknown hypercall number (-KVM_ENOSYS).
    case notImplemented(nr: UInt64)
    /// Arguments KVM (or our host's documented policy) rejects (-KVM_EINVAL).
    case invalidArgument(MapGPARangeArgumentError)
    /// The range is not guest memory the host can convert (-KVM_EFAULT).
    case badAddress
    /// The host refused or could not carry out a valid-looking request (-KVM_EINVAL).
    case refused

    /// The positive error number; the guest sees its negation.
    public var errorNumber: UInt64 {
        switch self {
        case .notPermitted: 1
        case .notImplemented: 1000
        case .invalidArgument, .refused: 22
        case .badAddress: 14
        }
    }

    /// The RAX value the guest reads back. Outside 64-bit mode KVM truncates the
    /// result to 32 bits (x86.c `complete_hypercall_exit`).
    public func returnValue(longMode: Bool) -> UInt64 {
        let negated = 0 &- errorNumber
        return longMode ? negated : negated & 0xFFFF_FFFF
    }
}

/// Why a KVM_HC_MAP_GPA_RANGE argument set was refused, in the order checked.
public enum MapGPARangeArgumentError: Sendable, Hashable {
    case unalignedAddress
    case zeroPages
    case wraps
    /// Attribute bits KVM leaves undefined: our host's policy, not KVM's.
    case reservedAttributes
    /// Page-size field values other than 4K (0), 2M (1), 1G (2): our host's policy.
    case unknownPageSize
}
