/// The default operand/address size of the code being decoded: what CS.L and CS.D (or
/// real mode) select (Intel SDM vol. 1 §3.6 and vol. 3 §3.4.5).
public enum CodeSize: Int, Equatable, Sendable {
    /// Real mode, virtual-8086 mode, or a 16-bit code segment.
    case bits16 = 16
    /// A 32-bit code segment (CS.D = 1), including compatibility mode.
    case bits32 = 32
    /// 64-bit mode (CS.L = 1 with EFER.LMA = 1).
    case bits64 = 64

    /// The address size after an optional 67h prefix (SDM vol. 1 table 3-4).
    func addressSize(override: Bool) -> CodeSize {
        switch self {
        case .bits16: override ? .bits32 : .bits16
        case .bits32: override ? .bits16 : .bits32
        case .bits64: override ? .bits32 : .bits64
        }
    }
}
