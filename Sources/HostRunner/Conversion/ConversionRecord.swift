import GuestABI
import GuestPhysical

/// One conversion request as the host served it: what was asked, through which interface
/// and transport, what actually changed, and how it ended. The event log of a run is a list
/// of these, in the order each vCPU issued them.
public struct ConversionRecord: Sendable, Equatable {
    public let interface: ConversionPlatform
    /// Which form of the interface carried it (e.g. GHCB MSR protocol vs PSC NAE event), or
    /// what made the host convert without a request.
    public let form: ConversionForm
    public let transport: Transport
    public let range: GPARange
    public let direction: PageState
    public let pageSize: UInt64
    public let outcome: ConversionOutcome
    /// Parts that changed state (and whose old content the host discarded).
    public let flipped: [GPARange]
    /// Parts that were already in the requested state.
    public let unchanged: [GPARange]
    public let seconds: Double

    public var succeeded: Bool { outcome.succeeded }
}

/// A request the host answered with an error before (or instead of) converting anything.
public struct RejectedRequest: Sendable, Equatable {
    public let interface: ConversionPlatform
    public let transport: Transport
    /// What the guest asked, in words, e.g. "MAP_GPA_RANGE gpa 0x1001 npages 1".
    public let request: String
    /// The answer the guest got, in the spec's terms, e.g. "rax = -KVM_EINVAL (0xffffffffffffffea)".
    public let answer: String
}

extension GuestABI.ConversionInterface {
    var platform: ConversionPlatform {
        switch self {
        case .kvmHypercall: .kvm
        case .ghcbMSR, .ghcbPSC: .sevSNP
        case .tdxMapGPA: .tdx
        }
    }
}
