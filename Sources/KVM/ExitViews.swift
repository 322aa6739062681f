import CKVM

// Views into the mmapped kvm_run of the vCPU that produced an exit. Reading or writing
// through a view touches kvm_run directly: answering an exit (an IO-in's bytes, an MSR's
// data or error, a hypercall's ret) is a store into the page KVM reads on the next
// KVM_RUN, with no copy and no allocation. A view is valid until that vCPU's next `run()`
// and must not outlive the `VCPU`.

/// The data bytes of a port-I/O or MMIO exit (`run->io` data at `data_offset`, or
/// `run->mmio.data`). For an IO-in or MMIO read, write the answer here.
public struct ExitBytes {
    /// The bytes, in kvm_run.
    public let bytes: UnsafeMutableRawBufferPointer

    /// Number of bytes.
    public var count: Int { bytes.count }

    /// One byte.
    public subscript(index: Int) -> UInt8 {
        get { bytes[index] }
        nonmutating set { bytes[index] = newValue }
    }

    /// The first `width` bytes (1, 2, 4 or 8, at most `count`) as a little-endian integer.
    public func load(width: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<min(width, count, 8) { value |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        return value
    }

    /// Stores the low `width` bytes of `value` little-endian at the start.
    public func store(_ value: UInt64, width: Int) {
        for i in 0..<min(width, count, 8) { bytes[i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
}

/// A KVM_EXIT_X86_RDMSR / KVM_EXIT_X86_WRMSR exit (`run->msr`).
public struct MSRExit {
    let pointer: UnsafeMutablePointer<ckvm_exit_msr>

    /// The MSR number the guest accessed (ECX).
    public var index: UInt32 { pointer.pointee.index }
    /// Why KVM sent it to user space.
    public var reason: MSRExitReasons { MSRExitReasons(rawValue: pointer.pointee.reason) }
    /// WRMSR: the value written. RDMSR: set the value the guest reads (EDX:EAX).
    public var data: UInt64 {
        get { pointer.pointee.data }
        nonmutating set { pointer.pointee.data = newValue }
    }
    /// Set non-zero to make the access raise #GP in the guest.
    public var error: UInt8 {
        get { pointer.pointee.error }
        nonmutating set { pointer.pointee.error = newValue }
    }
}

/// A KVM_EXIT_HYPERCALL exit (`run->hypercall`).
public struct HypercallExit {
    let pointer: UnsafeMutablePointer<ckvm_exit_hypercall>

    /// Hypercall number (12 = KVM_HC_MAP_GPA_RANGE).
    public var nr: UInt64 { pointer.pointee.nr }
    /// Argument `index` (0..<6).
    public func argument(_ index: Int) -> UInt64 {
        precondition((0..<6).contains(index), "hypercall argument index out of range")
        return withUnsafeBytes(of: &pointer.pointee.args) { $0.load(fromByteOffset: index * 8, as: UInt64.self) }
    }
    /// `KVM_EXIT_HYPERCALL_*` flags (bit 0: the call came from 64-bit mode).
    public var flags: UInt64 { pointer.pointee.flags }
    /// Whether the guest was in 64-bit mode.
    public var isLongMode: Bool { flags & CKVM_EXIT_HYPERCALL_LONG_MODE != 0 }
    /// The value the guest gets back in RAX (KVM pre-sets 0).
    public var ret: UInt64 {
        get { pointer.pointee.ret }
        nonmutating set { pointer.pointee.ret = newValue }
    }
}

/// A KVM_EXIT_INTERNAL_ERROR exit (`run->internal`).
public struct InternalErrorData {
    let pointer: UnsafeMutablePointer<ckvm_exit_internal>
    /// Number of valid `data` words.
    public var count: Int { min(Int(pointer.pointee.ndata), 16) }
    /// Data word `index` (0..<count).
    public subscript(index: Int) -> UInt64 {
        precondition((0..<count).contains(index), "internal error data index out of range")
        return withUnsafeBytes(of: &pointer.pointee.data) { $0.load(fromByteOffset: index * 8, as: UInt64.self) }
    }
}

/// A KVM_EXIT_SYSTEM_EVENT exit (`run->system_event`).
public struct SystemEvent {
    let pointer: UnsafeMutablePointer<ckvm_exit_system_event>
    /// `KVM_SYSTEM_EVENT_*` (1 shutdown, 2 reset, 3 crash, ...).
    public var type: UInt32 { pointer.pointee.type }
    /// Number of valid `data` words.
    public var count: Int { min(Int(pointer.pointee.ndata), 16) }
    /// Data word `index` (0..<count).
    public subscript(index: Int) -> UInt64 {
        precondition((0..<count).contains(index), "system event data index out of range")
        return withUnsafeBytes(of: &pointer.pointee.data) { $0.load(fromByteOffset: index * 8, as: UInt64.self) }
    }
}
