import Foundation
import HostRunner

/// One line of `enlighten bench`: the floor's median, ours, the ratio ours / floor, and the
/// target that ratio must meet (docs/benchmarks.md).
struct BenchFigure: Encodable {
    /// A bound on the ratio; a figure without one is reported, never judged.
    struct Target: Encodable {
        enum Bound: String, Encodable { case atMost = "<=", atLeast = ">=" }
        let bound: Bound
        let ratio: Double

        static func atMost(_ ratio: Double) -> Target { Target(bound: .atMost, ratio: ratio) }
        static func atLeast(_ ratio: Double) -> Target { Target(bound: .atLeast, ratio: ratio) }

        func isMet(by ratio: Double) -> Bool { bound == .atMost ? ratio <= self.ratio : ratio >= self.ratio }
        var text: String { (bound == .atMost ? "≤ " : "≥ ") + String(format: "%.2f×", ratio) }
    }

    /// One round: each side's value, measured back to back; `floor` is nil for a figure no
    /// floor does the same work for (encoded as null).
    struct Round: Encodable {
        let floor: Double?
        let ours: Double

        enum CodingKeys: String, CodingKey { case floor, ours }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(floor, forKey: .floor)
            try container.encode(ours, forKey: .ours)
        }
    }

    let id: String
    let name: String
    /// What the floor is, e.g. "raw ioctls", "memcpy", "QEMU".
    let floorKind: String
    let unit: String
    /// The median of the floor's rounds; nil (null) when no floor does the same work.
    let floor: Double?
    /// The median of our rounds.
    let ours: Double
    /// The median of the rounds' own ratios ours / floor. Each round measures both sides
    /// back to back, so a change in a shared machine's load between rounds cancels out of
    /// its ratio; this is what the target judges. nil (null) without a floor.
    let ratio: Double?
    let target: Target?
    /// Whether the target decides `bench`'s verdict; an unjudged target is only shown.
    let judged: Bool
    /// nil for a figure whose target is absent or not judged.
    let met: Bool?
    /// Each round's pair, in the order measured.
    let rounds: [Round]

    init(id: String, name: String, floorKind: String, unit: String, rounds: [Round], target: Target?, judged: Bool) {
        self.id = id
        self.name = name
        self.floorKind = floorKind
        self.unit = unit
        let floors = rounds.compactMap(\.floor)
        let hasFloor = !rounds.isEmpty && floors.count == rounds.count
        floor = hasFloor ? floors.median : nil
        ours = rounds.map(\.ours).median
        let ratio = hasFloor ? rounds.compactMap { round in round.floor.map { round.ours / $0 } }.median : nil
        self.ratio = ratio
        self.target = hasFloor ? target : nil
        self.judged = judged && hasFloor && target != nil
        met = self.judged ? target.flatMap { target in ratio.map { target.isMet(by: $0) } } : nil
        self.rounds = rounds
    }

    /// A figure no floor does the same work for: our median only, reported, never judged.
    init(id: String, name: String, unit: String, reportedOnly ours: [Double], why floorKind: String) {
        self.init(
            id: id, name: name, floorKind: floorKind, unit: unit, rounds: ours.map { Round(floor: nil, ours: $0) }, target: nil, judged: false)
    }

    enum CodingKeys: String, CodingKey { case id, name, floorKind, unit, floor, ours, ratio, target, judged, met, rounds }

    /// Every member, null when absent (docs/json.md: keys are always present).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(floorKind, forKey: .floorKind)
        try container.encode(unit, forKey: .unit)
        try container.encode(floor, forKey: .floor)
        try container.encode(ours, forKey: .ours)
        try container.encode(ratio, forKey: .ratio)
        try container.encode(target, forKey: .target)
        try container.encode(judged, forKey: .judged)
        try container.encode(met, forKey: .met)
        try container.encode(rounds, forKey: .rounds)
    }
}

/// Everything `bench --json` prints.
struct BenchReport: Encodable {
    let rounds: Int
    let floorBinary: String
    /// Where guest RAM lived on both sides: "guest_memfd" or "memfd", and the memslot ioctl.
    let backing: String
    let memslot: String
    let figures: [BenchFigure]
    /// Figures that could not be measured here, with why (e.g. no QEMU installed).
    let skipped: [String: String]
    /// No figure missed its target.
    let passed: Bool

    init(rounds: Int, floorBinary: String, backing: RAMBacking, figures: [BenchFigure], skipped: [String: String]) {
        self.rounds = rounds
        self.floorBinary = floorBinary
        self.backing = backing.kind.rawValue
        memslot = backing.memslotCall.rawValue
        self.figures = figures
        self.skipped = skipped
        passed = figures.allSatisfy { $0.met != false }
    }

    func printHuman() {
        print("enlighten bench: the runner against its floor, both sides back to back in each of \(rounds) rounds")
        print("floor and ours: medians of the rounds; ratio: median of the rounds' own ratios ours/floor")
        print("floor: Benchmarks/Floor, \(floorBinary)")
        print("guest RAM on both sides: \(backing) (\(memslot))\n")
        let rows = [["figure", "floor", "ours", "ratio", "target", ""]] + figures.map(Self.row)
        let widths = (0..<6).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        for (id, why) in skipped.sorted(by: { $0.key < $1.key }) { print("skipped \(id): \(why)") }
        let missed = figures.filter { $0.met == false }
        print(
            missed.isEmpty
                ? "\nevery target met"
                : "\nTARGET MISSED: "
                    + missed.map { "\($0.name) (\(String(format: "%.2f×", $0.ratio ?? .nan)), target \($0.target?.text ?? ""))" }.joined(separator: "; "))
    }

    /// One figure's row of the human table.
    private static func row(_ figure: BenchFigure) -> [String] {
        let floor: String = figure.floor.map { "\(format($0, figure.unit)) \(figure.floorKind)" } ?? "none: \(figure.floorKind)"
        let ratio: String = figure.ratio.map { String(format: "%.2f×", $0) } ?? "-"
        var verdict = "(reported only)"
        if let met = figure.met {
            verdict = met ? "met" : "NOT MET"
        } else if let target = figure.target, let value = figure.ratio {
            verdict = target.isMet(by: value) ? "(met, not judged)" : "(not met, not judged)"
        }
        return [figure.name, floor, format(figure.ours, figure.unit), ratio, figure.target?.text ?? "none", verdict]
    }

    static func format(_ value: Double, _ unit: String) -> String {
        let digits = value >= 100 ? 0 : value >= 10 ? 1 : value >= 1 ? 2 : 3
        return String(format: "%.\(digits)f \(unit)", value)
    }
}

extension Array where Element == Double {
    /// The smallest value (the best of some times); NaN when empty.
    var smallest: Double { self.min() ?? .nan }

    /// The median (the mean of the middle two for an even count; NaN when empty).
    var median: Double {
        let sorted = self.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
