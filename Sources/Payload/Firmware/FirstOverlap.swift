import GuestPhysical

/// The first two ranges of a metadata table that overlap, found in O(n log n) so a table of
/// 2^20 sections is checked in well under a second.
enum FirstOverlap {
    /// Among `ranges` (section index, range), the pair (earlier index, later index) of the
    /// first overlap met in address order; nil when none overlap. Empty ranges overlap nothing.
    static func find(in ranges: [(index: Int, range: GPARange)]) -> (Int, Int)? {
        let sorted = ranges.filter { !$0.range.isEmpty }
            .sorted { ($0.range.start, $0.index) < ($1.range.start, $1.index) }
        // The range reaching furthest so far: any later start below its end overlaps it.
        var reach: (index: Int, end: UInt128)?
        for item in sorted {
            if let current = reach, UInt128(item.range.start) < current.end {
                return (min(current.index, item.index), max(current.index, item.index))
            }
            if reach.map({ item.range.upperBound > $0.end }) ?? true { reach = (item.index, item.range.upperBound) }
        }
        return nil
    }
}
