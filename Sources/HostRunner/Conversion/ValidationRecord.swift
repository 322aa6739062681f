import GuestPhysical

/// One guest-side validation as the host served it: SNP PVALIDATE or TDX
/// TDG.MEM.PAGE.ACCEPT, the page(s) it named, and the platform's answer.
public struct ValidationRecord: Sendable, Equatable {
    public let interface: ConversionPlatform
    /// "PVALIDATE" or "TDG.MEM.PAGE.ACCEPT".
    public let instruction: String
    /// "validate", "rescind" or "accept".
    public let operation: String
    public let range: GPARange
    public let pageSize: UInt64
    /// The answer in the platform's terms, e.g. "success", "no update (RAX 0, CF 1)",
    /// "FAIL_SIZEMISMATCH (RAX 6)", "TDX_PAGE_ALREADY_ACCEPTED (0xb0a00000000)".
    public let result: String
    /// Whether the page's state changed.
    public let changed: Bool
    public let transport: Transport
}

extension RunEvent {
    public var validation: ValidationRecord? {
        if case .validation(_, let record) = self { record } else { nil }
    }
}
