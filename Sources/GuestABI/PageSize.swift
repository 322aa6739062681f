import GuestPhysical

/// The page granularity a guest names for a conversion.
///
/// Every interface counts in 4 KiB frames underneath; the page size is a hint the
/// host may use to pick a backing granularity, never a different unit of length.
public enum PageSize: Sendable, Hashable, CaseIterable {
    case size4K
    case size2M
    case size1G

    public var byteCount: UInt64 {
        switch self {
        case .size4K: 0x1000
        case .size2M: 0x20_0000
        case .size1G: 0x4000_0000
        }
    }

    /// How many 4 KiB frames one page of this size spans.
    public var frameCount: UInt64 { byteCount >> GPARange.frameShift }
}
