/// The VMM's answer to a TDG.VP.VMCALL: the status for R10 and the output
/// registers the subfunction defines, written back only where the guest exposed
/// them (the TDX module copies exposed registers only, intel/tdx-module
/// `tdg_vp_vmcall.c`).
///
/// KVM leaves R10 as the guest wrote it, 0, for the instruction subfunctions it
/// completes (tdx.c sets a status only on failure), which reads as SUCCESS.
public struct TDVMCallAnswer: Sendable, Hashable {
    public var status: UInt64
    /// (x86 register number, value) pairs, in the order written.
    public var outputs: [Output]

    public struct Output: Sendable, Hashable {
        public let register: Int
        public let value: UInt64

        public init(register: Int, value: UInt64) {
            self.register = register
            self.value = value
        }
    }

    public init(status: UInt64, outputs: [Output] = []) {
        self.status = status
        self.outputs = outputs
    }

    public init(_ completion: TDVMCallCompletion) {
        self.init(status: completion.status, outputs: completion.r11.map { [Output(register: 11, value: $0)] } ?? [])
    }

    public static let success = TDVMCallAnswer(status: TDVMCallStatus.success)
    public static let invalidOperand = TDVMCallAnswer(status: TDVMCallStatus.invalidOperand)
    public static let subfunctionUnsupported = TDVMCallAnswer(status: TDVMCallStatus.subfunctionUnsupported)

    /// Instruction.IO read and #VE.RequestMMIO read: R11 = the value, zero-extended
    /// from `size` bytes (tdx.c `tdvmcall_set_return_val` on a zeroed `val`).
    public static func read(_ value: UInt64, size: Int) -> TDVMCallAnswer {
        let masked = size >= 8 ? value : value & ((1 << UInt64(size * 8)) - 1)
        return TDVMCallAnswer(status: TDVMCallStatus.success, outputs: [Output(register: 11, value: masked)])
    }

    /// Instruction.RDMSR: R11 = EDX:EAX (tdx.c `tdx_complete_emulated_msr`).
    public static func msrRead(_ value: UInt64) -> TDVMCallAnswer {
        TDVMCallAnswer(status: TDVMCallStatus.success, outputs: [Output(register: 11, value: value)])
    }

    /// Instruction.CPUID: R12–R15 = EAX, EBX, ECX, EDX (tdx.c `tdx_emulate_cpuid`).
    public static func cpuid(eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) -> TDVMCallAnswer {
        TDVMCallAnswer(
            status: TDVMCallStatus.success,
            outputs: [
                Output(register: 12, value: UInt64(eax)), Output(register: 13, value: UInt64(ebx)),
                Output(register: 14, value: UInt64(ecx)), Output(register: 15, value: UInt64(edx)),
            ])
    }

    /// GetTdVmCallInfo: SUCCESS with R11–R14 = 0, KVM's answer to leaf 0 and its
    /// preset for leaf 1 (no optional TDVMCALL served; tdx.c `tdx_get_td_vm_call_info`).
    public static let tdVmCallInfo = TDVMCallAnswer(
        status: TDVMCallStatus.success,
        outputs: (11...14).map {
            Output(register: $0, value: 0)
        })

    /// Writes the answer as the TDX module resumes the guest: RAX = TDX_SUCCESS (the
    /// TDCALL itself worked), then R10 and the outputs, each only if exposed.
    public func apply(to registers: inout TDCallRegisters, exposedMask: UInt16) {
        registers.rax = TDCall.success
        if exposedMask & (1 << 10) != 0 { registers.r10 = status }
        for output in outputs where exposedMask & (1 << UInt16(output.register)) != 0 {
            registers[gpr: output.register] = output.value
        }
    }

    /// Why a call was answered at once.
    public enum Reason: Sendable, Hashable {
        case served
        case invalidOperand(TDVMCallInvalidOperand)
        case subfunctionUnsupported(UInt64)
    }
}
