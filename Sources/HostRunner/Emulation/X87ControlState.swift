import KVM

/// The part of a vCPU's x87/SSE state the control instructions read and write, as a value:
/// the x87 control, status and (abridged, FXSAVE-format) tag words, the last-instruction
/// opcode and pointers, and MXCSR. The data registers and XMM registers are untouched by
/// these instructions and stay in the `XSAVEArea` this was read from.
public struct X87ControlState: Equatable, Sendable {
    /// FCW.
    public var controlWord: UInt16
    /// FSW.
    public var statusWord: UInt16
    /// The abridged tag byte of FXSAVE: bit i set = physical register i not empty
    /// (SDM vol. 1 §10.5.1.1); 0 = all empty.
    public var abridgedTagWord: UInt8
    /// FOP, the last non-control x87 opcode.
    public var lastOpcode: UInt16
    /// FIP and FDP.
    public var lastInstructionPointer: UInt64
    public var lastDataPointer: UInt64
    /// MXCSR.
    public var mxcsr: UInt32

    public init(
        controlWord: UInt16, statusWord: UInt16, abridgedTagWord: UInt8, lastOpcode: UInt16 = 0,
        lastInstructionPointer: UInt64 = 0, lastDataPointer: UInt64 = 0, mxcsr: UInt32
    ) {
        self.controlWord = controlWord
        self.statusWord = statusWord
        self.abridgedTagWord = abridgedTagWord
        self.lastOpcode = lastOpcode
        self.lastInstructionPointer = lastInstructionPointer
        self.lastDataPointer = lastDataPointer
        self.mxcsr = mxcsr
    }

    /// The fields of a KVM_GET_XSAVE image. (KVM_GET_FPU would do for the x87 words but
    /// never carries MXCSR; see `FPURegisters`.)
    public init(_ area: XSAVEArea) {
        self.init(
            controlWord: area.fcw, statusWord: area.fsw, abridgedTagWord: area.abridgedTagWord,
            lastOpcode: area.lastOpcode, lastInstructionPointer: area.lastInstructionPointer,
            lastDataPointer: area.lastDataPointer, mxcsr: area.mxcsr)
    }

    /// `area` with these fields written in and XSTATE_BV's x87 and SSE bits set, so that
    /// KVM_SET_XSAVE (XRSTOR) loads them rather than the init values.
    public func applied(to area: XSAVEArea) -> XSAVEArea {
        var result = area
        result.fcw = controlWord
        result.fsw = statusWord
        result.abridgedTagWord = abridgedTagWord
        result.lastOpcode = lastOpcode
        result.lastInstructionPointer = lastInstructionPointer
        result.lastDataPointer = lastDataPointer
        result.mxcsr = mxcsr
        result.xstateBV |= XSAVEArea.x87AndSSE
        return result
    }

    /// Whether an x87 exception flag (FSW bits 0–5) is set whose mask bit (FCW bits 0–5) is
    /// clear: what FWAIT and the waiting x87 instructions report as #MF (SDM vol. 1 §8.7).
    public var hasPendingUnmaskedException: Bool {
        statusWord & ~controlWord & 0x3F != 0
    }
}
