import Payload

/// Pre-population: the plan's ranges written into guest memory before any vCPU runs, with
/// the host's own checksum of each range's planned bytes to compare against the guest's.
public struct Population: Sendable {
    public struct Entry: Sendable, Equatable {
        public let range: PlanRange
        /// CRC32C of the bytes written; nil for ranges the host does not write.
        public let checksum: UInt32?
        public let bytesWritten: UInt64
    }

    public let entries: [Entry]
    public let image: Image

    /// Writes measured and unmeasured ranges from the image's bytes. Zero ranges are left to
    /// guest_memfd, whose pages read as zero until written; shared ranges are not populated.
    static func populate(image: Image, into memory: GuestMemory) throws(RunError) -> Population {
        var entries: [Entry] = []
        for range in image.plan.ranges {
            guard range.kind.isPopulatedFromImage else {
                entries.append(Entry(range: range, checksum: nil, bytesWritten: 0))
                continue
            }
            let bytes = image.contents(of: range.range)
            guard let destination = memory.bytes(at: range.range.start, count: bytes.count) else {
                throw .planExceedsMemory(needed: range.range.end, available: memory.regions.map(\.range.end).max() ?? 0)
            }
            bytes.withUnsafeBytes { destination.copyMemory(from: $0) }
            entries.append(Entry(range: range, checksum: CRC32C.checksum(bytes), bytesWritten: UInt64(bytes.count)))
        }
        return Population(entries: entries, image: image)
    }

    /// The host's checksum of the planned bytes of any range, for checking a guest CHECKSUM.
    /// Nil when the range is not one the plan can speak for (wraps, or larger than guest RAM
    /// could be), so a hostile length cannot make the host allocate without bound.
    public func plannedChecksum(gpa: UInt64, length: UInt64) -> UInt32? {
        let (end, overflow) = gpa.addingReportingOverflow(length)
        guard !overflow, length <= Layout.ramWindow.end else { return nil }
        return CRC32C.checksum(image.contents(of: GPARange(start: gpa, end: end)))
    }

    /// RAM starts private except where the plan says shared.
    func initialStates(memory: UInt64) -> PageStateMap {
        var map = PageStateMap()
        map.set(GPARange(start: 0, end: memory), to: .private)
        for entry in entries where Layout.ramWindow.contains(entry.range.range) {
            map.set(entry.range.range, to: entry.range.state == .shared ? .shared : .private)
        }
        return map
    }
}
