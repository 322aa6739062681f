import CKVM

// Views into the mmapped kvm_run of the vCPU that produced an exit. Reading or writing
// through a view touches kvm_run directly: answering an exit (an IO-in's bytes, an MSR's
// data or error, a hypercall's ret) is a store into the page KVM reads on the next
// KVM_RUN, with no copy and no allocation.
//
// Invariant behind every SAFETY comment below: a view's pointer lies inside a kvm_run
// mapping that RunState keeps mapped, and the view is used before that vCPU runs again
// and before the VCPU is released (the documented lifetime of a view).

/// The data bytes of a port-I/O or MMIO exit (`run->io` data at `data_offset`, or
/// `run->mmio.data`). For an IO-in or MMIO read, write the answer here.
public struct ExitBytes {
    /// The bytes, in kvm_run.
    public let bytes: UnsafeMutableRawBufferPointer

    /// Number of bytes.
    public var count: Int { bytes.count }

    /// One byte; `index` must be in 0..<count (checked).
    public subscript(index: Int) -> UInt8 {
        get {
            precondition(index >= 0 && index < count, "exit data index out of range")
            // SAFETY: index checked against the view, which lies inside kvm_run (invariant above).
            return bytes[index]
        }
        nonmutating set {
            precondition(index >= 0 && index < count, "exit data index out of range")
            // SAFETY: index checked against the view, which lies inside kvm_run (invariant above).
            bytes[index] = newValue
        }
    }

    /// The first `width` bytes (at most 8 and at most `count`) as a little-endian integer.
    public func load(width: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<max(0, min(width, count, 8)) { value |= UInt64(self[i]) << (8 * UInt64(i)) }
        return value
    }

    /// Stores the low `width` bytes (at most 8 and at most `count`) of `value` little-endian.
    public func store(_ value: UInt64, width: Int) {
        for i in 0..<max(0, min(width, count, 8)) { self[i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
}

/// A KVM_EXIT_X86_RDMSR / KVM_EXIT_X86_WRMSR exit (`run->msr`).
public struct MSRExit {
    let pointer: UnsafeMutablePointer<ckvm_exit_msr>

    /// The MSR number the guest accessed (ECX).
    public var index: UInt32 {
        // SAFETY: run->msr view inside live kvm_run (invariant above).
        pointer.pointee.index
    }
    /// Why KVM sent it to user space.
    public var reason: MSRExitReasons {
        // SAFETY: run->msr view inside live kvm_run (invariant above).
        MSRExitReasons(rawValue: pointer.pointee.reason)
    }
    /// WRMSR: the value written. RDMSR: set the value the guest reads (EDX:EAX).
    public var data: UInt64 {
        // SAFETY: run->msr view inside live kvm_run (invariant above).
        get { pointer.pointee.data }
        // SAFETY: run->msr view inside live kvm_run (invariant above); KVM reads it on entry.
        nonmutating set { pointer.pointee.data = newValue }
    }
    /// Set non-zero to make the access raise #GP in the guest.
    public var error: UInt8 {
        // SAFETY: run->msr view inside live kvm_run (invariant above).
        get { pointer.pointee.error }
        // SAFETY: run->msr view inside live kvm_run (invariant above); KVM reads it on entry.
        nonmutating set { pointer.pointee.error = newValue }
    }
}

/// A KVM_EXIT_HYPERCALL exit (`run->hypercall`).
public struct HypercallExit {
    let pointer: UnsafeMutablePointer<ckvm_exit_hypercall>

    /// Hypercall number (12 = KVM_HC_MAP_GPA_RANGE).
    public var nr: UInt64 {
        // SAFETY: run->hypercall view inside live kvm_run (invariant above).
        pointer.pointee.nr
    }
    /// Argument `index` (0..<6, checked).
    public func argument(_ index: Int) -> UInt64 {
        precondition((0..<6).contains(index), "hypercall argument index out of range")
        // SAFETY: run->hypercall view inside live kvm_run; index checked against args[6].
        return withUnsafeBytes(of: &pointer.pointee.args) { $0.load(fromByteOffset: index * 8, as: UInt64.self) }
    }
    /// `KVM_EXIT_HYPERCALL_*` flags (bit 0: the call came from 64-bit mode).
    public var flags: UInt64 {
        // SAFETY: run->hypercall view inside live kvm_run (invariant above).
        pointer.pointee.flags
    }
    /// Whether the guest was in 64-bit mode.
    public var isLongMode: Bool { flags & CKVM_EXIT_HYPERCALL_LONG_MODE != 0 }
    /// The value the guest gets back in RAX (KVM pre-sets 0).
    public var ret: UInt64 {
        // SAFETY: run->hypercall view inside live kvm_run (invariant above).
        get { pointer.pointee.ret }
        // SAFETY: run->hypercall view inside live kvm_run (invariant above); KVM reads it on entry.
        nonmutating set { pointer.pointee.ret = newValue }
    }
}

/// A KVM_EXIT_INTERNAL_ERROR exit (`run->internal`).
public struct InternalErrorData {
    let pointer: UnsafeMutablePointer<ckvm_exit_internal>
    /// Number of valid `data` words.
    public var count: Int {
        // SAFETY: run->internal view inside live kvm_run (invariant above).
        min(Int(pointer.pointee.ndata), 16)
    }
    /// Data word `index` (0..<count, checked).
    public subscript(index: Int) -> UInt64 {
        precondition((0..<count).contains(index), "internal error data index out of range")
        // SAFETY: run->internal view inside live kvm_run; index checked against data[16].
        return withUnsafeBytes(of: &pointer.pointee.data) { $0.load(fromByteOffset: index * 8, as: UInt64.self) }
    }
}

/// A KVM_EXIT_SYSTEM_EVENT exit (`run->system_event`).
public struct SystemEvent {
    let pointer: UnsafeMutablePointer<ckvm_exit_system_event>
    /// `KVM_SYSTEM_EVENT_*` (1 shutdown, 2 reset, 3 crash, ...).
    public var type: UInt32 {
        // SAFETY: run->system_event view inside live kvm_run (invariant above).
        pointer.pointee.type
    }
    /// Number of valid `data` words.
    public var count: Int {
        // SAFETY: run->system_event view inside live kvm_run (invariant above).
        min(Int(pointer.pointee.ndata), 16)
    }
    /// Data word `index` (0..<count, checked).
    public subscript(index: Int) -> UInt64 {
        precondition((0..<count).contains(index), "system event data index out of range")
        // SAFETY: run->system_event view inside live kvm_run; index checked against data[16].
        return withUnsafeBytes(of: &pointer.pointee.data) { $0.load(fromByteOffset: index * 8, as: UInt64.self) }
    }
}
