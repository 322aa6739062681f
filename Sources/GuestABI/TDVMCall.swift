/// A TDG.VP.VMCALL as KVM's `handle_tdvmcall` (arch/x86/kvm/vmx/tdx.c) reads it.
public enum TDVMCall: Sendable, Hashable {
    /// R10 = 0, R11 = 0x10001: R12 = GPA (its shared bit picks the direction),
    /// R13 = size in bytes.
    case mapGPA(gpa: UInt64, size: UInt64)
    /// R10 != 0: a KVM hypercall with R10 = nr and R11–R14 = a0–a3
    /// (`tdx_emulate_vmcall`); status goes back in R10.
    case kvmHypercall(nr: UInt64, a0: UInt64, a1: UInt64, a2: UInt64, a3: UInt64)
    /// Any other standard subfunction: KVM answers SUBFUNC_UNSUPPORTED.
    case unsupported(subfunction: UInt64)

    /// `TDVMCALL_MAP_GPA` (Linux asm/shared/tdx.h, td-shim, edk2 Tdx.h).
    public static let mapGPASubfunction: UInt64 = 0x10001

    /// Decodes from the VMM's view of the registers (unexposed ones already zero:
    /// a guest that hides R12/R13 asks MapGPA for address 0, size 0, and gets
    /// INVALID_OPERAND, as it would from KVM).
    public init(exposed registers: TDCallRegisters) {
        if registers.r10 != 0 {
            self = .kvmHypercall(nr: registers.r10, a0: registers.r11, a1: registers.r12, a2: registers.r13, a3: registers.r14)
        } else if registers.r11 == Self.mapGPASubfunction {
            self = .mapGPA(gpa: registers.r12, size: registers.r13)
        } else {
            self = .unsupported(subfunction: registers.r11)
        }
    }

    /// The registers a guest loads for this call with the usual R10–R15 exposed
    /// (td-shim's 0xFC00), for stubs and tests.
    public var registers: TDCallRegisters {
        var registers = TDCallRegisters()
        registers.rax = UInt64(TDCall.Leaf.vpVMCall.rawValue)
        registers.rcx = Self.standardExposedMask
        switch self {
        case let .mapGPA(gpa, size):
            registers.r11 = Self.mapGPASubfunction
            registers.r12 = gpa
            registers.r13 = size
        case let .kvmHypercall(nr, a0, a1, a2, a3):
            registers.r10 = nr
            registers.r11 = a0
            registers.r12 = a1
            registers.r13 = a2
            registers.r14 = a3
        case let .unsupported(subfunction):
            registers.r11 = subfunction
        }
        return registers
    }

    public static let standardExposedMask: UInt64 = 0xFC00
}
