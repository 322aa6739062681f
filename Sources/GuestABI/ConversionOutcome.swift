/// What the host's conversion service says about one `ConversionRequest`.
///
/// Each interface turns a failure into its own spec's error; the mapping lives
/// next to each codec (`MapGPARange.returnValue`, `GHCBMSRResponse`,
/// `PageStateChangeResult`, `TDVMCallStatus`).
public enum ConversionOutcome: Sendable, Hashable {
    case converted
    /// Part of the range is not guest memory the host can convert.
    case outsideGuestMemory
    /// The host refuses the request as malformed or against its policy.
    case invalidRequest
    /// The host tried and failed (an fallocate or attribute update failed).
    case hostFailure

    public var succeeded: Bool { self == .converted }

    /// The outcome's name in the event log, reports and `--json` (a literal: the request path
    /// allocates no text). Not `description`: a `PageStateChangeResult` that carries an outcome
    /// is logged in Swift's default spelling, which `description` would change.
    public var name: String {
        switch self {
        case .converted: "converted"
        case .outsideGuestMemory: "outsideGuestMemory"
        case .invalidRequest: "invalidRequest"
        case .hostFailure: "hostFailure"
        }
    }
}
