import GuestABI
import GuestPhysical

/// A GHCB Page State Change restated from the specifications, independently of
/// PageStateChangeProcessor: GHCB spec §4.1.6 (descriptor: header cur_entry/end_entry, 64-bit
/// entries cur_page [11:0], gfn [51:12], operation [55:52], page size [56]) and Linux
/// arch/x86/kvm/svm/sev.c snp_begin_psc (end_entry >= 253 → INVALID_HDR; a cur_page beyond
/// the entry or a 2 MiB entry whose gfn is not 512-aligned → INVALID_ENTRY; a failed
/// conversion → ERROR_GENERIC) with the host's documented policy for reserved bits and
/// unknown operations (PageStateChangePolicy).
enum PSCOracle {
    // asm/sev-common.h: VMGEXIT_PSC_ERROR_GENERIC, _INVALID_HDR, _INVALID_ENTRY.
    static let errorGeneric: UInt64 = 0x100 << 32
    static let errorInvalidHeader: UInt64 = (1 << 32) | 1
    static let errorInvalidEntry: UInt64 = (1 << 32) | 2
    static let maximumEntries = 253 // VMGEXIT_PSC_MAX_ENTRY
    static let sharedBufferEnd = 0xFF0 // GHCB shared buffer: 0x800..<0xFF0

    struct Entry {
        let raw: UInt64
        var curPage: UInt64 { raw & 0xFFF }
        var gfn: UInt64 { (raw >> 12) & ((1 << 40) - 1) }
        var operation: UInt64 { (raw >> 52) & 0xF }
        var is2M: Bool { raw >> 56 & 1 == 1 }
        var reserved: UInt64 { raw >> 57 }
        var pages: UInt64 { is2M ? 512 : 1 }
    }

    /// Checks one PSC run against the model: `before`/`after` the page, the descriptor at
    /// `offset`, what the host was asked (`requests`) and failed (the `failAt`-th, 1-based, or
    /// none when 0), and the `result` with its SW_EXITINFO2 `exitInfo2`.
    static func check(
        before: GHCBPage, after: GHCBPage, offset: Int, strict: Bool, requests: [ConversionRequest],
        failAt: Int, result: PageStateChangeResult, exitInfo2: UInt64
    ) {
        let current = Int(before.load(UInt16.self, at: offset)), end = Int(before.load(UInt16.self, at: offset + 2))
        let capacity = (sharedBufferEnd - offset - 8) / 8
        let entry = { (page: GHCBPage, index: Int) in Entry(raw: page.load(UInt64.self, at: offset + 8 + 8 * index)) }
        if end >= maximumEntries || end >= capacity {
            expect(exitInfo2 == errorInvalidHeader && requests.isEmpty, "end_entry \(end) (room for \(capacity)): want INVALID_HDR, got \(result)")
            return
        }
        // Walk the entries as the spec defines them: the pages still to do of each, up to the
        // first malformed entry.
        var expected: [(frame: UInt64, pages: UInt64, toPrivate: Bool)] = []
        var stop: Int?
        if current <= end {
            for index in current...end {
                let e = entry(before, index)
                let malformed =
                    e.curPage > e.pages || e.gfn % e.pages != 0
                    || (strict && e.reserved != 0) || (strict && !(1...4).contains(e.operation))
                if malformed { stop = index; break }
                if e.operation == 1 || e.operation == 2, e.curPage < e.pages {
                    expected.append((e.gfn + e.curPage, e.pages - e.curPage, e.operation == 1))
                }
            }
        }
        let requested = requests.map { ($0.range.firstFrame, UInt64(clamping: $0.range.pageCount), $0.direction == .toPrivate) }
        for request in requests {
            expect(request.origin == .ghcbPSC, "origin \(request.origin)")
            if request.pageSize == .size2M {
                expect(request.range.firstFrame % 512 == 0 && request.range.pageCount % 512 == 0, "a 2 MiB request \(request) is not 2 MiB-aligned")
            }
        }
        if failAt > 0, requests.count == failAt {
            expect(exitInfo2 == errorGeneric, "the host failed request \(failAt): want ERROR_GENERIC, got \(result)")
            return
        }
        if let stop {
            expect(exitInfo2 == errorInvalidEntry, "entry \(stop) (\(hex(entry(before, stop).raw))) is malformed: want INVALID_ENTRY, got \(result)")
            expect(result == .invalidEntry(index: stop), "want invalidEntry(index: \(stop)), got \(result)")
            expect(Int(after.load(UInt16.self, at: offset)) == stop, "cur_entry after INVALID_ENTRY must point at entry \(stop)")
        } else {
            expect(exitInfo2 == 0 && result == .completed, "every entry is well formed: want completion, got \(result)")
            if current <= end {
                expect(Int(after.load(UInt16.self, at: offset)) == end + 1, "cur_entry after completion")
                for index in current...end {
                    let e = entry(after, index)
                    expect(e.curPage == e.pages, "entry \(index) not marked done: cur_page \(e.curPage)")
                }
            }
        }
        expect(Coverage(expected) == Coverage(requested), "the requests \(requests) do not name exactly the entries' pages \(expected)")
    }
}

/// How many times each frame is named, per direction, as sorted segments: equal exactly when
/// two lists of ranges name the same pages the same number of times.
struct Coverage: Equatable {
    struct Segment: Equatable { let toPrivate: Bool, start: UInt64, end: UInt64, count: Int }
    let segments: [Segment]

    init(_ ranges: [(frame: UInt64, pages: UInt64, toPrivate: Bool)]) {
        var points: [(toPrivate: Bool, at: UInt64, delta: Int)] = []
        for range in ranges where range.pages > 0 {
            points.append((range.toPrivate, range.frame, 1))
            points.append((range.toPrivate, range.frame &+ range.pages, -1))
        }
        points.sort { ($0.toPrivate ? 1 : 0, $0.at) < ($1.toPrivate ? 1 : 0, $1.at) }
        var segments: [Segment] = []
        var count = 0
        for (index, point) in points.enumerated() {
            count += point.delta
            guard index + 1 < points.count, points[index + 1].toPrivate == point.toPrivate,
                points[index + 1].at > point.at, count > 0
            else { continue }
            let next = Segment(toPrivate: point.toPrivate, start: point.at, end: points[index + 1].at, count: count)
            if let last = segments.last, last.toPrivate == next.toPrivate, last.end == next.start, last.count == next.count {
                segments[segments.count - 1] = Segment(toPrivate: last.toPrivate, start: last.start, end: next.end, count: last.count)
            } else {
                segments.append(next)
            }
        }
        self.segments = segments
    }
}

extension GHCBPage {
    /// A PSC descriptor at `offset` from the input: the header's cur_entry and end_entry, then
    /// as many entries as the input holds, up to the end of the page.
    mutating func fillDescriptor(at offset: Int, from input: inout FuzzInput) {
        store(input.u16(), at: offset) // cur_entry
        store(input.u16(), at: offset + 2) // end_entry
        store(UInt32(0), at: offset + 4)
        var slot = offset + 8
        while input.remaining >= 8, slot + 8 <= 0x1000 {
            store(input.u64(), at: slot)
            slot += 8
        }
    }
}
