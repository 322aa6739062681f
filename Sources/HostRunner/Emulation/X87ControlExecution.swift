/// The control registers the control instructions' faults depend on (SDM vol. 3 §2.5):
/// CR0.MP (bit 1), CR0.EM (bit 2), CR0.TS (bit 3), CR0.NE (bit 5), CR4.OSFXSR (bit 9).
public struct X87ControlContext: Equatable, Sendable {
    public var cr0: UInt64
    public var cr4: UInt64

    public init(cr0: UInt64, cr4: UInt64) {
        self.cr0 = cr0
        self.cr4 = cr4
    }

    var monitorCoprocessor: Bool { cr0 & (1 << 1) != 0 }
    var emulation: Bool { cr0 & (1 << 2) != 0 }
    var taskSwitched: Bool { cr0 & (1 << 3) != 0 }
    var numericError: Bool { cr0 & (1 << 5) != 0 }
    var osfxsr: Bool { cr4 & (1 << 9) != 0 }
}

/// What performing a control instruction came to.
public enum X87ControlOutcome: Equatable, Sendable {
    /// Done: advance RIP by the instruction's length.
    case completed
    /// Done once `value`'s low `bytes` bytes are written little-endian to the memory operand.
    case store(value: UInt32, bytes: Int)
    /// The instruction raises this exception instead (RIP stays at it).
    case fault(X86Exception)
    /// An x87 error with CR0.NE = 0: the legacy FERR#/IRQ 13 path, which this model leaves out.
    case legacyFloatingPointError
}

/// The exceptions these instructions can raise (SDM vol. 3 table 6-1).
public enum X86Exception: Equatable, Sendable {
    /// #UD, vector 6.
    case invalidOpcode
    /// #NM, vector 7.
    case deviceNotAvailable
    /// #GP(0), vector 13.
    case generalProtection
    /// #MF, vector 16.
    case floatingPointError

    public var vector: UInt8 {
        switch self {
        case .invalidOpcode: 6
        case .deviceNotAvailable: 7
        case .generalProtection: 13
        case .floatingPointError: 16
        }
    }
}

/// Performs the x87/SSE control instructions on an `X87ControlState`, as the Intel SDM
/// vol. 2 pages of FWAIT, FINIT/FNINIT, FLDCW, FSTCW/FNSTCW, LDMXCSR and STMXCSR describe
/// them, with their protected-mode exception tables. Memory is the caller's: it passes the
/// loaded operand in and writes a `.store` out.
public enum X87ControlExecution {
    /// FNINIT's values (SDM vol. 2 FINIT/FNINIT "Operation"): FCW 037FH (all exceptions
    /// masked, 64-bit precision, round to nearest), FSW 0, FTW FFFFH (every register empty,
    /// abridged tag 00H), FOP, FIP and FDP 0.
    public static let initialControlWord: UInt16 = 0x037F

    /// MXCSR_MASK used when the caller knows none: 0000FFFFH, the mask of every processor
    /// with DAZ (SDM vol. 1 §11.6.6; 0000FFBFH is the default only for processors without
    /// it), so nothing a real CPU refuses is accepted except on a pre-DAZ part. Callers
    /// should pass the vCPU's own mask, `XSAVEArea.mxcsrMask` (KVM_GET_XSAVE bytes 28–31):
    /// on this project's AMD EPYC hosts it is 0002FFFFH, bit 17 (MM, misaligned-SSE mode) too.
    public static let defaultMXCSRMask: UInt32 = 0x0000_FFFF

    /// Performs `instruction` on `state`. `operand` is the memory operand's value (low 16 bits
    /// for FLDCW, 32 for LDMXCSR), ignored by the others. Faults leave `state` unchanged.
    public static func perform(
        _ instruction: X87ControlInstruction, on state: inout X87ControlState,
        context: X87ControlContext, operand: UInt32 = 0,
        mxcsrMask: UInt32 = defaultMXCSRMask
    ) -> X87ControlOutcome {
        switch instruction {
        case .fwait:
            // #NM only when both MP and TS are set (FWAIT page, protected-mode exceptions).
            if context.monitorCoprocessor && context.taskSwitched { return .fault(.deviceNotAvailable) }
            return pendingError(state, context) ?? .completed
        case .fninit:
            if context.emulation || context.taskSwitched { return .fault(.deviceNotAvailable) }
            state.controlWord = initialControlWord
            state.statusWord = 0
            state.abridgedTagWord = 0
            state.lastOpcode = 0
            state.lastInstructionPointer = 0
            state.lastDataPointer = 0
            return .completed
        case .fldcw:
            if context.emulation || context.taskSwitched { return .fault(.deviceNotAvailable) }
            // A waiting instruction: a pending unmasked exception is raised before it runs.
            if let error = pendingError(state, context) { return error }
            // A control instruction: FOP/FIP/FDP keep their values (SDM vol. 1 §8.1.8).
            state.controlWord = UInt16(truncatingIfNeeded: operand)
            return .completed
        case .fnstcw:
            if context.emulation || context.taskSwitched { return .fault(.deviceNotAvailable) }
            return .store(value: UInt32(state.controlWord), bytes: 2)
        case .ldmxcsr, .stmxcsr:
            // #UD before #NM: CR0.EM set or CR4.OSFXSR clear; then #NM for CR0.TS.
            if context.emulation || !context.osfxsr { return .fault(.invalidOpcode) }
            if context.taskSwitched { return .fault(.deviceNotAvailable) }
            if instruction == .stmxcsr { return .store(value: state.mxcsr, bytes: 4) }
            if operand & ~mxcsrMask != 0 { return .fault(.generalProtection) }
            state.mxcsr = operand
            return .completed
        }
    }

    private static func pendingError(_ state: X87ControlState, _ context: X87ControlContext) -> X87ControlOutcome? {
        guard state.hasPendingUnmaskedException else { return nil }
        return context.numericError ? .fault(.floatingPointError) : .legacyFloatingPointError
    }
}
