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

    /// One round: each side's value, measured back to back.
    struct Round: Encodable {
        let floor: Double
        let ours: Double
    }

    let id: String
    let name: String
    /// What the floor is, e.g. "raw ioctls", "memcpy", "QEMU".
    let floorKind: String
    let unit: String
    /// The median of the floor's rounds.
    let floor: Double
    /// The median of our rounds.
    let ours: Double
    /// The median of the rounds' own ratios ours / floor. Each round measures both sides
    /// back to back, so a change in a shared machine's load between rounds cancels out of
    /// its ratio; this is what the target judges.
    let ratio: Double
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
        floor = rounds.map(\.floor).median
        ours = rounds.map(\.ours).median
        let ratio = rounds.map { $0.ours / $0.floor }.median
        self.ratio = ratio
        self.target = target
        self.judged = judged && target != nil
        met = judged ? target.map { $0.isMet(by: ratio) } : nil
        self.rounds = rounds
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
        let rows =
            [["figure", "floor", "ours", "ratio", "target", ""]]
            + figures.map { figure in
                [
                    figure.name, "\(Self.format(figure.floor, figure.unit)) \(figure.floorKind)", Self.format(figure.ours, figure.unit),
                    String(format: "%.2f×", figure.ratio), figure.target?.text ?? "none",
                    figure.met.map { $0 ? "met" : "NOT MET" }
                        ?? (figure.target.map { $0.isMet(by: figure.ratio) ? "(met, not judged)" : "(not met, not judged)" } ?? "(reported only)"),
                ]
            }
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
                    + missed.map { "\($0.name) (\(String(format: "%.2f×", $0.ratio)), target \($0.target?.text ?? ""))" }.joined(separator: "; "))
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
