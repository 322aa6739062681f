/// An ordered map from 4 KiB frame numbers to values, held as the frames where the value
/// changes: each boundary key starts a run that lasts until the next key. A `nil` value is
/// a run of untracked frames (before the first key everything is untracked).
///
/// The boundaries live in a treap (a binary search tree balanced by random priorities) kept
/// in flat arrays, so assigning a run costs O(log n + k) for n boundaries in the map and k in
/// the assigned run, however fragmented the rest of the map is: 4096 scattered single-page
/// conversions cost the same per request as the first one. Invariant: two consecutive
/// boundaries never carry equal values (runs are always coalesced).
struct IntervalMap<Value: Equatable & Sendable>: Sendable {
    /// One maximal run of equal values, `[startFrame, endFrame)`.
    struct Run: Equatable {
        var startFrame: UInt64
        var endFrame: UInt64
        var value: Value?
    }

    private static var none: Int32 { -1 }
    private var keys: [UInt64] = []
    private var values: [Value?] = []
    private var left: [Int32] = []
    private var right: [Int32] = []
    private var priorities: [UInt32] = []
    private var freeNodes: [Int32] = []
    private var root: Int32 = -1
    /// xorshift state for the priorities: deterministic, so runs and tests are repeatable.
    private var seed: UInt64 = 0x9E37_79B9_7F4A_7C15

    init() {}

    /// How many boundaries the map holds (a measure of its fragmentation).
    var boundaryCount: Int { keys.count - freeNodes.count }

    /// The value at `frame`, nil where untracked.
    func value(at frame: UInt64) -> Value? {
        floorNode(frame).flatMap { values[Int($0)] }
    }

    /// The runs covering `[startFrame, endFrame)`, clipped to it, untracked gaps included.
    func runs(from startFrame: UInt64, to endFrame: UInt64) -> [Run] {
        var result: [Run] = []
        forEachRun(from: startFrame, to: endFrame) { result.append($0) }
        return result
    }

    /// Calls `body` with each run `runs(from:to:)` returns, in order, without building the
    /// list: the conversion path asks for the runs of every request it serves.
    func forEachRun(from startFrame: UInt64, to endFrame: UInt64, _ body: (Run) -> Void) {
        guard startFrame < endFrame else { return }
        var current = Run(startFrame: startFrame, endFrame: endFrame, value: value(at: startFrame))
        visit(from: root, above: startFrame, below: endFrame) { key, value in
            current.endFrame = key
            body(current)
            current = Run(startFrame: key, endFrame: endFrame, value: value)
        }
        current.endFrame = endFrame
        body(current)
    }

    /// Every tracked run, in order.
    var trackedRuns: [Run] {
        var result: [Run] = []
        var open: Run?
        visit(from: root, above: 0, below: .max, includingLower: true) { key, value in
            if var run = open {
                run.endFrame = key
                result.append(run)
            }
            open = value.map { Run(startFrame: key, endFrame: key, value: $0) }
        }
        return result
    }

    /// Sets `[startFrame, endFrame)` to `value`.
    mutating func assign(_ value: Value?, from startFrame: UInt64, to endFrame: UInt64) {
        guard startFrame < endFrame else { return }
        let before = startFrame == 0 ? nil : self.value(at: startFrame - 1)
        let after = self.value(at: endFrame)
        let (lower, rest) = split(root, startFrame)
        let (middle, upper) = split(rest, endFrame &+ 1)
        release(middle)
        var inserted = Self.none
        if before != value || (startFrame == 0 && value != nil) {
            inserted = merge(inserted, node(startFrame, value))
        }
        if after != value {
            inserted = merge(inserted, node(endFrame, after))
        }
        root = merge(merge(lower, inserted), upper)
    }

    // MARK: - Treap

    private mutating func node(_ key: UInt64, _ value: Value?) -> Int32 {
        seed ^= seed << 13
        seed ^= seed >> 7
        seed ^= seed << 17
        let priority = UInt32(truncatingIfNeeded: seed >> 32)
        if let reused = freeNodes.popLast() {
            let index = Int(reused)
            keys[index] = key
            values[index] = value
            left[index] = Self.none
            right[index] = Self.none
            priorities[index] = priority
            return reused
        }
        keys.append(key)
        values.append(value)
        left.append(Self.none)
        right.append(Self.none)
        priorities.append(priority)
        return Int32(keys.count - 1)
    }

    /// Splits `tree` into the keys below `key` and the keys at or above it.
    private mutating func split(_ tree: Int32, _ key: UInt64) -> (Int32, Int32) {
        guard tree != Self.none else { return (Self.none, Self.none) }
        let index = Int(tree)
        if keys[index] < key {
            let (lower, upper) = split(right[index], key)
            right[index] = lower
            return (tree, upper)
        } else {
            let (lower, upper) = split(left[index], key)
            left[index] = upper
            return (lower, tree)
        }
    }

    /// Joins two trees whose keys are all ordered `lower` before `upper`.
    private mutating func merge(_ lower: Int32, _ upper: Int32) -> Int32 {
        guard lower != Self.none else { return upper }
        guard upper != Self.none else { return lower }
        if priorities[Int(lower)] > priorities[Int(upper)] {
            right[Int(lower)] = merge(right[Int(lower)], upper)
            return lower
        } else {
            left[Int(upper)] = merge(lower, left[Int(upper)])
            return upper
        }
    }

    /// Frees every node of `tree`. Recursive, like `split` and `merge`: the depth is the
    /// treap's, O(log n) expected, and no stack is allocated per call.
    private mutating func release(_ tree: Int32) {
        guard tree != Self.none else { return }
        let index = Int(tree)
        release(left[index])
        release(right[index])
        values[index] = nil
        freeNodes.append(tree)
    }

    /// The node with the greatest key at or below `key`.
    private func floorNode(_ key: UInt64) -> Int32? {
        var tree = root
        var best: Int32?
        while tree != Self.none {
            let index = Int(tree)
            if keys[index] <= key {
                best = tree
                tree = right[index]
            } else {
                tree = left[index]
            }
        }
        return best
    }

    /// Calls `body` for every key in (`lower`, `upper`) — or [`lower`, `upper`) — in order,
    /// visiting only the O(log n + k) nodes on the way. Recursive (the treap's depth), so a
    /// request's walk allocates nothing.
    private func visit(
        from tree: Int32, above lower: UInt64, below upper: UInt64, includingLower: Bool = false,
        _ body: (UInt64, Value?) -> Void
    ) {
        guard tree != Self.none else { return }
        let index = Int(tree)
        let key = keys[index]
        let aboveLower = key > lower || (includingLower && key == lower)
        // Left subtrees hold smaller keys: descend only while they can still qualify.
        if aboveLower { visit(from: left[index], above: lower, below: upper, includingLower: includingLower, body) }
        // Right subtrees hold greater keys: nothing there is below `upper` either.
        guard key < upper else { return }
        if aboveLower { body(key, values[index]) }
        visit(from: right[index], above: lower, below: upper, includingLower: includingLower, body)
    }
}
