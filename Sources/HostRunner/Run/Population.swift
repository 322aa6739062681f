import GuestPhysical
import Payload

#if canImport(Glibc)
import Glibc
#endif

/// Pre-population: the plan's ranges written into guest memory before any vCPU runs, with
/// the host's own checksum of each range's planned bytes to compare against the guest's.
public struct Population: Sendable {
    public struct Entry: Sendable, Equatable {
        public let range: PlanRange
        public let bytesWritten: UInt64
    }

    public let entries: [Entry]
    public let image: Image
    /// The confidential launch's special pages, in the order the runner filled them
    /// (`SNPLaunchPages`); empty unless the run is an SNP launch of a firmware image.
    public internal(set) var launchPages: [LaunchPage] = []

    /// Writes measured and unmeasured ranges from the image's bytes, segment by segment
    /// straight into guest memory (no staging copy: this is the launch path's bandwidth).
    /// Bytes a populated range has no segment for, zero ranges, and the rest of guest_memfd
    /// read as zero until written; shared ranges are not populated.
    static func populate(image: Image, into memory: GuestMemory) throws(RunError) -> Population {
        var entries: [Entry] = []
        for range in image.plan.ranges {
            guard range.kind.isPopulatedFromImage else {
                entries.append(Entry(range: range, bytesWritten: 0))
                continue
            }
            guard memory.contains(range.range.start, count: Int(range.range.size)) else {
                throw .planExceedsMemory(needed: range.range.end, available: memory.regions.map(\.range.end).max() ?? 0)
            }
            var written: UInt64 = 0
            for segment in image.segments {
                let segmentRange = GPARange(start: segment.address, end: segment.address + UInt64(segment.bytes.count))
                guard segmentRange.overlaps(range.range) else { continue }
                let from = max(segmentRange.start, range.range.start), to = min(segmentRange.end, range.range.end)
                let copied: Void? = memory.withBytes(at: from, count: Int(to - from)) { destination in
                    segment.bytes.withUnsafeBytes { source in
                        // SAFETY: [from, to) lies inside the segment (the overlap computed above),
                        // so the rebased slice is inside `source`; `destination` holds to - from bytes.
                        copyPrefaulted(to: destination, from: UnsafeRawBufferPointer(rebasing: source[Int(from - segment.address)..<Int(to - segment.address)]))
                    }
                }
                guard copied != nil else { continue }
                written += to - from
            }
            entries.append(Entry(range: range, bytesWritten: written))
        }
        return Population(entries: entries, image: image)
    }

    /// Copies `source` into fresh guest memory a 2 MiB chunk at a time, each chunk's pages
    /// first faulted in with one madvise(MADV_POPULATE_WRITE) (Linux 5.14). Fresh guest_memfd
    /// pages otherwise take a page fault each on first touch, which held population to about
    /// 0.7x memcpy bandwidth (`enlighten bench`); faulting a chunk in one call and copying it
    /// while its freshly zeroed pages are still in cache brings it to about 0.9x. Best
    /// effort: where the advice is unknown the copy faults the pages in itself.
    private static func copyPrefaulted(to destination: UnsafeMutableRawBufferPointer, from source: UnsafeRawBufferPointer) {
        let chunk = 2 << 20, page = 4096 // x86-64 base pages
        let madvisePopulateWrite: Int32 = 23
        guard let target = destination.baseAddress, let origin = source.baseAddress else { return }
        let count = min(destination.count, source.count)
        for offset in stride(from: 0, to: count, by: chunk) {
            let length = min(chunk, count - offset)
            #if canImport(Glibc)
            let start = Int(bitPattern: target + offset) & ~(page - 1)
            let end = (Int(bitPattern: target + offset + length) + page - 1) & ~(page - 1)
            // SAFETY: the page-rounded range lies inside the guest mapping that holds
            // `destination` (mappings are page aligned); the advice only faults pages in.
            _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, madvisePopulateWrite)
            #endif
            // SAFETY: offset + length <= count, the smaller of the two buffers' sizes.
            (target + offset).copyMemory(from: origin + offset, byteCount: length)
        }
    }

    /// The host's checksum of the planned bytes of `[gpa, gpa + length)`, for checking a guest
    /// CHECKSUM. Nil unless the range is non-empty and lies wholly inside ranges the plan
    /// populated (measured, unmeasured or zero): the plan speaks for nothing else, and a
    /// hostile record must not choose how much work the host does. Computed from the image's
    /// segments without materialising the range, zero runs in O(log length).
    public func plannedChecksum(gpa: UInt64, length: UInt64) -> UInt32? {
        let (end, overflow) = gpa.addingReportingOverflow(length)
        guard !overflow, length > 0 else { return nil }
        let range = GPARange(start: gpa, end: end)
        guard isPopulated(range) else { return nil }
        var crc = CRC32C.initial
        var cursor = range.start
        for segment in image.segments {
            let segmentRange = GPARange(start: segment.address, end: segment.address + UInt64(segment.bytes.count))
            guard segmentRange.overlaps(range) else { continue }
            let from = max(segmentRange.start, cursor), to = min(segmentRange.end, range.end)
            guard from < to else { continue }
            crc = CRC32C.updateZeros(crc, count: from - cursor)
            crc = segment.bytes.withUnsafeBytes { bytes in
                // SAFETY: [from, to) lies inside the segment (clamped to its range above).
                CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: bytes[Int(from - segment.address)..<Int(to - segment.address)]))
            }
            cursor = to
        }
        return CRC32C.finish(CRC32C.updateZeros(crc, count: range.end - cursor))
    }

    /// Whether the plan's populated ranges (measured, unmeasured, zero) cover all of `range`.
    func isPopulated(_ range: GPARange) -> Bool {
        var cursor = range.start
        for planned in image.plan.ranges.filter({ $0.kind != .shared }).map(\.range).sorted(by: { $0.start < $1.start }) {
            guard planned.start <= cursor else { break }
            if planned.end > cursor { cursor = planned.end }
            if cursor >= range.end { return true }
        }
        return false
    }

    /// The launch state of RAM (`PageStateMap.launchState`): private except where the plan
    /// says shared; on SNP/TDX only what the plan populates, and the launch pages, are
    /// validated/accepted (SNP_LAUNCH_UPDATE validates every page it adds).
    func initialStates(memory: UInt64, platform: ConversionPlatform?) -> PageStateMap {
        let launched = launchPages.map { page in
            PlanRange(name: page.source.description, range: page.range, kind: page.contents == nil ? .zero : .measured, state: .private)
        }
        return PageStateMap.launchState(ram: GPARange(start: 0, end: memory), plan: entries.map(\.range) + launched, platform: platform)
    }
}
