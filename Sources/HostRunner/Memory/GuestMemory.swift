import GuestPhysical
import Payload

/// The host's view of guest-physical memory: which GPA ranges are backed, and where.
///
/// Every host access to guest memory goes through `withBytes(at:count:_:)` (or the helpers
/// built on it), which answers only for ranges wholly inside one backed region and lends
/// the bytes for the closure's duration only, so a hostile GPA can never make the host read
/// or write outside guest memory, and no pointer into guest RAM outlives the access.
///
/// `@unchecked Sendable`: the region table is immutable after construction and the mappings
/// it points into are kept alive by the `Machine` that built it; the bytes themselves are
/// guest memory, shared with vCPUs by nature.
public struct GuestMemory: @unchecked Sendable {
    public struct Region {
        public let name: String
        public let range: GPARange
        /// The host mapping of `range`, at least `range.size` bytes, alive while the region is.
        public let base: UnsafeMutableRawPointer
    }

    public let regions: [Region]

    public init(regions: [Region]) { self.regions = regions.sorted { $0.range.start < $1.range.start } }

    /// Calls `body` with the host bytes behind `[gpa, gpa + count)` and returns its result,
    /// or nil (without calling it) unless one region holds the whole range. The buffer is
    /// valid only inside `body`.
    public func withBytes<Result, Failure: Error>(
        at gpa: UInt64, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result? {
        guard count >= 0 else { return nil }
        let (end, overflow) = gpa.addingReportingOverflow(UInt64(count))
        guard !overflow else { return nil }
        for region in regions where region.range.start <= gpa && end <= region.range.end {
            // SAFETY: [gpa, end) lies inside the region (checked above), whose mapping of
            // range.size bytes at `base` the Machine keeps alive; the buffer does not escape `body`.
            return try body(UnsafeMutableRawBufferPointer(start: region.base + Int(gpa - region.range.start), count: count))
        }
        return nil
    }

    /// Like `withBytes(at:count:_:)`, read-only, with as many bytes as the region holds from
    /// `gpa`, up to `count`.
    public func withPrefix<Result>(at gpa: UInt64, upTo count: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result? {
        guard count >= 0, let region = regions.first(where: { $0.range.contains(gpa) }) else { return nil }
        let available = Int(min(UInt64(count), region.range.end - gpa))
        // SAFETY: gpa is inside the region and `available` stops at its end; the mapping is
        // kept alive by the Machine and the buffer does not escape `body`.
        return body(UnsafeRawBufferPointer(start: region.base + Int(gpa - region.range.start), count: available))
    }

    /// The little-endian `T` at `gpa` (unaligned), or nil outside guest memory.
    public func load<T: FixedWidthInteger>(_ type: T.Type = T.self, at gpa: UInt64) -> T? {
        // SAFETY: the buffer is exactly MemoryLayout<T>.size bytes; the load is unaligned.
        withBytes(at: gpa, count: MemoryLayout<T>.size) { T(littleEndian: $0.loadUnaligned(as: T.self)) }
    }

    /// A copy of `[gpa, gpa + count)`, or nil unless one region holds it.
    public func read(at gpa: UInt64, count: Int) -> [UInt8]? {
        withBytes(at: gpa, count: count) { Array($0) }
    }

    /// Writes `bytes` at `gpa`; false (nothing written) unless one region holds them all.
    @discardableResult
    public func write(_ bytes: [UInt8], at gpa: UInt64) -> Bool {
        // SAFETY: the target is exactly bytes.count bytes.
        withBytes(at: gpa, count: bytes.count) { target in bytes.withUnsafeBytes { target.copyMemory(from: $0) } } != nil
    }

    /// Zeroes `[gpa, gpa + count)`; false unless one region holds it.
    @discardableResult
    public func zero(at gpa: UInt64, count: Int) -> Bool {
        withBytes(at: gpa, count: count) { $0.initializeMemory(as: UInt8.self, repeating: 0) } != nil
    }

    /// Whether one region holds all of `[gpa, gpa + count)`.
    public func contains(_ gpa: UInt64, count: Int) -> Bool {
        withBytes(at: gpa, count: count) { _ in () } != nil
    }

    public func contains(_ range: GPARange) -> Bool {
        regions.contains { $0.range.contains(range) }
    }
}
