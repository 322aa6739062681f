/// How strictly the host reads PSC entries where KVM and the GHCB spec leave room.
public struct PageStateChangePolicy: Sendable, Hashable {
    /// What to do with an entry whose operation is not 1–4.
    public var unknownOperation: UnknownOperationHandling
    /// Whether entry bits 63:57 must be zero.
    public var rejectsReservedEntryBits: Bool

    public enum UnknownOperationHandling: Sendable, Hashable {
        /// Answer INVALID_ENTRY: the spec defines operations 1–4 only.
        case invalidEntry
        /// Mark the entry done without converting anything, exactly as KVM's
        /// `snp_begin_psc` does (its `default:` branch treats every operation other
        /// than private/shared like PSMASH/UNSMASH).
        case completeWithoutConversion
    }

    public init(unknownOperation: UnknownOperationHandling, rejectsReservedEntryBits: Bool) {
        self.unknownOperation = unknownOperation
        self.rejectsReservedEntryBits = rejectsReservedEntryBits
    }

    /// The runner's default: a guest that sends an undefined operation or sets
    /// reserved bits is told INVALID_ENTRY rather than silently succeeding.
    public static let strict = PageStateChangePolicy(unknownOperation: .invalidEntry, rejectsReservedEntryBits: true)

    /// What Linux KVM (sev.c) does: reserved bits ignored, unknown operations completed.
    public static let kvm = PageStateChangePolicy(unknownOperation: .completeWithoutConversion, rejectsReservedEntryBits: false)
}
