import GuestPhysical

/// One private/shared conversion, as every interface is reduced to it.
///
/// Everything after the codecs (the conversion service, the page-state map, the
/// reports) sees only this, so the interface a request came through is kept as data.
public struct ConversionRequest: Sendable, Hashable, CustomStringConvertible {
    public var range: GPARange
    public var direction: ConversionDirection
    /// The page size the guest named; a hint, see `PageSize`.
    public var pageSize: PageSize
    public var origin: ConversionInterface

    public init(range: GPARange, direction: ConversionDirection, pageSize: PageSize, origin: ConversionInterface) {
        self.range = range
        self.direction = direction
        self.pageSize = pageSize
        self.origin = origin
    }

    public var start: UInt64 { range.start }
    public var pageCount: UInt128 { range.pageCount }

    public var description: String {
        "\(origin) \(direction) \(range) (\(pageSize))"
    }
}
