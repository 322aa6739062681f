import CKVM

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
