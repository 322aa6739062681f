import GuestPhysical
import Payload

/// The host's view of guest-physical memory: which GPA ranges are backed, and where.
///
/// Every host access to guest memory goes through `bytes(at:count:)`, which answers only
/// for ranges wholly inside one backed region, so a hostile GPA can never make the host
/// read or write outside guest memory.
///
/// `@unchecked Sendable`: the region table is immutable after construction and the mappings
/// it points into are kept alive by the `Machine` that built it; the bytes themselves are
/// guest memory, shared with vCPUs by nature.
public struct GuestMemory: @unchecked Sendable {
    public struct Region {
        public let name: String
        public let range: GPARange
        public let base: UnsafeMutableRawPointer
    }

    public let regions: [Region]

    public init(regions: [Region]) { self.regions = regions.sorted { $0.range.start < $1.range.start } }

    /// The host bytes behind `[gpa, gpa + count)`, or nil unless one region holds it all.
    public func bytes(at gpa: UInt64, count: Int) -> UnsafeMutableRawBufferPointer? {
        guard count >= 0 else { return nil }
        let (end, overflow) = gpa.addingReportingOverflow(UInt64(count))
        guard !overflow else { return nil }
        for region in regions where region.range.start <= gpa && end <= region.range.end {
            return UnsafeMutableRawBufferPointer(start: region.base + Int(gpa - region.range.start), count: count)
        }
        return nil
    }

    /// Like `bytes(at:count:)` but gives as many bytes as the region holds, up to `count`.
    public func prefix(at gpa: UInt64, upTo count: Int) -> UnsafeMutableRawBufferPointer? {
        guard let region = regions.first(where: { $0.range.contains(gpa) }) else { return nil }
        let available = Int(min(UInt64(count), region.range.end - gpa))
        return UnsafeMutableRawBufferPointer(start: region.base + Int(gpa - region.range.start), count: available)
    }

    public func contains(_ range: GPARange) -> Bool {
        regions.contains { $0.range.contains(range) }
    }
}
