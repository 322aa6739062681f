/// The x87 and SSE control instructions this runner performs itself, because some KVM
/// hosts cannot: on kvm_pvm (the project's own machines) `fwait`, `fldcw` and `ldmxcsr` end
/// in KVM_EXIT_INTERNAL_ERROR (emulation failure) at the instruction, and edk2's
/// `InitializeFloatingPointUnits` (UefiCpuPkg/Library/BaseUefiCpuLib/X64/InitializeFpu.nasm:
/// `finit; fldcw; ldmxcsr`, called from OvmfPkg/Sec/SecMain.c) and its `SetJump`
/// (`stmxcsr`) run exactly these. Encodings: Intel SDM vol. 2, each instruction's page.
public enum X87ControlInstruction: Equatable, Sendable {
    /// `FWAIT`/`WAIT` (9B): raise a pending unmasked x87 exception, else nothing.
    case fwait
    /// `FNINIT` (DB E3): the x87 state's reset values, without checking for exceptions.
    case fninit
    /// `FLDCW m2byte` (D9 /5): load the x87 control word.
    case fldcw
    /// `FNSTCW m2byte` (D9 /7): store the x87 control word.
    case fnstcw
    /// `LDMXCSR m32` (NP 0F AE /2): load MXCSR.
    case ldmxcsr
    /// `STMXCSR m32` (NP 0F AE /3): store MXCSR.
    case stmxcsr

    /// Bytes the memory operand has (nil for the two without one).
    public var operandBytes: Int? {
        switch self {
        case .fwait, .fninit: nil
        case .fldcw, .fnstcw: 2
        case .ldmxcsr, .stmxcsr: 4
        }
    }

    /// Whether the instruction reads its memory operand (else it writes it, or has none).
    public var readsMemory: Bool { self == .fldcw || self == .ldmxcsr }
}
