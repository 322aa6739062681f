/// How a PSC NAE event ended, and the SW_EXITINFO2 value that says so.
public enum PageStateChangeResult: Sendable, Hashable {
    /// Every entry from `cur_entry` to `end_entry` is done (or there was nothing to do).
    case completed
    /// `end_entry` is beyond what the buffer can hold.
    case invalidHeader
    /// The entry at `index` is malformed; `cur_entry` points at it.
    case invalidEntry(index: Int)
    /// The host failed a run; `cur_entry` points at the run's first entry.
    case hostFailed(ConversionOutcome)

    /// Values from Linux asm/sev-common.h: `VMGEXIT_PSC_ERROR_GENERIC` (0x100 << 32),
    /// `_INVALID_HDR` ((1 << 32) | 1), `_INVALID_ENTRY` ((1 << 32) | 2).
    public static let errorGeneric: UInt64 = 0x100 << 32
    public static let errorInvalidHeader: UInt64 = (1 << 32) | 1
    public static let errorInvalidEntry: UInt64 = (1 << 32) | 2

    public var exitInfo2: UInt64 {
        switch self {
        case .completed: 0
        case .invalidHeader: Self.errorInvalidHeader
        case .invalidEntry: Self.errorInvalidEntry
        case .hostFailed: Self.errorGeneric
        }
    }
}
