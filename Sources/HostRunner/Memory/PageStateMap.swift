import Payload

/// Whether a page is private to the guest or shared with the host.
public enum PageState: String, Sendable, Codable {
    case `private`, shared
}

/// An exact map of page states over guest-physical memory: disjoint, sorted, coalesced
/// intervals. Conversions ask it what actually changes, so the host discards exactly the
/// pages that flip and reports the ones that were already in the requested state.
public struct PageStateMap: Sendable, Equatable {
    public struct Interval: Sendable, Equatable {
        public var range: GPARange
        public var state: PageState

        public init(range: GPARange, state: PageState) {
            self.range = range
            self.state = state
        }
    }

    public private(set) var intervals: [Interval] = []

    public init() {}

    /// The result of a `set`: which parts flipped and which were already in that state.
    public struct Change: Sendable, Equatable {
        public var flipped: [GPARange] = []
        public var unchanged: [GPARange] = []
    }

    /// The state of every page in `range`, as intervals (gaps are untracked memory).
    public func states(in range: GPARange) -> [Interval] {
        intervals.compactMap { interval in
            guard interval.range.overlaps(range) else { return nil }
            return Interval(range: GPARange(start: max(interval.range.start, range.start), end: min(interval.range.end, range.end)), state: interval.state)
        }
    }

    public func state(at address: UInt64) -> PageState? {
        intervals.first { $0.range.contains(address) }?.state
    }

    /// Sets `range` to `state` and says what changed. Untracked parts count as flipped.
    @discardableResult
    public mutating func set(_ range: GPARange, to state: PageState) -> Change {
        guard !range.isEmpty else { return Change() }
        var change = Change()
        var cursor = range.start
        for interval in states(in: range) {
            if interval.range.start > cursor { change.flipped.append(GPARange(start: cursor, end: interval.range.start)) }
            if interval.state == state { change.unchanged.append(interval.range) } else { change.flipped.append(interval.range) }
            cursor = interval.range.end
        }
        if cursor < range.end { change.flipped.append(GPARange(start: cursor, end: range.end)) }

        var rebuilt: [Interval] = []
        rebuilt.reserveCapacity(intervals.count + 2)
        for interval in intervals {
            if !interval.range.overlaps(range) { rebuilt.append(interval); continue }
            if interval.range.start < range.start {
                rebuilt.append(Interval(range: GPARange(start: interval.range.start, end: range.start), state: interval.state))
            }
            if interval.range.end > range.end {
                rebuilt.append(Interval(range: GPARange(start: range.end, end: interval.range.end), state: interval.state))
            }
        }
        rebuilt.append(Interval(range: range, state: state))
        rebuilt.sort { $0.range.start < $1.range.start }
        intervals = Self.coalesce(rebuilt)
        change.flipped = Self.merge(change.flipped)
        change.unchanged = Self.merge(change.unchanged)
        return change
    }

    private static func coalesce(_ sorted: [Interval]) -> [Interval] {
        var result: [Interval] = []
        for interval in sorted {
            if var last = result.last, last.state == interval.state, last.range.end == interval.range.start {
                last.range = GPARange(start: last.range.start, end: interval.range.end)
                result[result.count - 1] = last
            } else {
                result.append(interval)
            }
        }
        return result
    }

    private static func merge(_ ranges: [GPARange]) -> [GPARange] {
        var result: [GPARange] = []
        for range in ranges {
            if let last = result.last, last.end == range.start {
                result[result.count - 1] = GPARange(start: last.start, end: range.end)
            } else {
                result.append(range)
            }
        }
        return result
    }
}
