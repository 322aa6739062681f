/// The general-purpose registers a TDCALL reads and writes, as the trap transport
/// sees them. RSP never travels: the TDX module forbids exposing it.
public struct TDCallRegisters: Sendable, Hashable {
    public var rax: UInt64 = 0
    public var rcx: UInt64 = 0
    public var rdx: UInt64 = 0
    public var rbx: UInt64 = 0
    public var rbp: UInt64 = 0
    public var rsi: UInt64 = 0
    public var rdi: UInt64 = 0
    public var r8: UInt64 = 0
    public var r9: UInt64 = 0
    public var r10: UInt64 = 0
    public var r11: UInt64 = 0
    public var r12: UInt64 = 0
    public var r13: UInt64 = 0
    public var r14: UInt64 = 0
    public var r15: UInt64 = 0

    public init() {}

    /// Registers by x86 encoding number (RAX 0, RCX 1, RDX 2, RBX 3, RSP 4, RBP 5,
    /// RSI 6, RDI 7, R8–R15 8–15), the numbering of the TDG.VP.VMCALL GPR mask.
    /// RSP reads as 0 and ignores writes.
    public subscript(gpr index: Int) -> UInt64 {
        get {
            switch index {
            case 0: rax
            case 1: rcx
            case 2: rdx
            case 3: rbx
            case 5: rbp
            case 6: rsi
            case 7: rdi
            case 8: r8
            case 9: r9
            case 10: r10
            case 11: r11
            case 12: r12
            case 13: r13
            case 14: r14
            case 15: r15
            default: 0
            }
        }
        set {
            switch index {
            case 0: rax = newValue
            case 1: rcx = newValue
            case 2: rdx = newValue
            case 3: rbx = newValue
            case 5: rbp = newValue
            case 6: rsi = newValue
            case 7: rdi = newValue
            case 8: r8 = newValue
            case 9: r9 = newValue
            case 10: r10 = newValue
            case 11: r11 = newValue
            case 12: r12 = newValue
            case 13: r13 = newValue
            case 14: r14 = newValue
            case 15: r15 = newValue
            default: break
            }
        }
    }
}
