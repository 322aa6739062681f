import GuestABI
import GuestPhysical
import HostRunner

/// Something a case must observe. Each evaluates a run to nil (met) or a sentence naming
/// exactly what differed, which is what a failing case reports.
public enum Expectation: Sendable {
    /// The guest ran to the end: every vCPU exited 0, no CHECK failed, no checksum differed.
    case guestPasses
    /// The host served exactly these conversions, in this order (over all vCPUs when
    /// `vcpu` is nil), with these results.
    case conversions([ExpectedConversion], vcpu: Int? = nil)
    /// A VALUE record the guest sent.
    case value(String, equals: UInt64)
    /// A CHECK record the guest sent, passed, with this actual value.
    case check(String, equals: UInt64)
    /// The host refused exactly this many requests (spec errors returned to the guest).
    case rejections(Int)
    /// Every page of `range` ended in `state`.
    case finalState(GPARange, PageState)
    /// A log line the guest wrote, exactly.
    case logLine(String)
    /// The guest asked its platform to end it, exactly so, and nothing else failed: the
    /// termination is the verdict the scenario expects.
    case terminates(GuestTermination)
    /// Anything else, with the sentence it reports when `check` returns one.
    case custom(String, @Sendable (RunResult) -> String?)

    public func evaluate(_ result: RunResult) -> String? {
        switch self {
        case .guestPasses:
            guard let first = result.failures.first else {
                return result.passed ? nil : "the guest did not report an exit code on every vCPU"
            }
            return "guest: \(first)"
        case .conversions(let expected, let vcpu):
            let actual = result.conversions.filter { vcpu == nil || $0.vcpu == vcpu }.map(\.record)
            for (index, want) in expected.enumerated() {
                guard index < actual.count else {
                    return "conversion \(index + 1) of \(expected.count): expected \(want), the host served only \(actual.count)"
                }
                if let difference = want.difference(from: actual[index]) {
                    return "conversion \(index + 1) of \(expected.count): expected \(want), got \(ExpectedConversion.describe(actual[index])) (\(difference))"
                }
            }
            if actual.count > expected.count {
                return
                    "expected \(expected.count) conversions, the host served \(actual.count); the first extra: \(ExpectedConversion.describe(actual[expected.count]))"
            }
            return nil
        case .value(let name, let expected):
            guard let value = result.values[name] else { return "the guest sent no VALUE '\(name)'" }
            return value == expected ? nil : "VALUE '\(name)' is \(hex(value)), expected \(hex(expected))"
        case .check(let name, let expected):
            let checks = result.events.compactMap { event -> (UInt64, Bool)? in
                if case .record(_, .check(name, let actual, _, let passed)) = event { (actual, passed) } else { nil }
            }
            guard let (actual, passed) = checks.first else { return "the guest sent no CHECK '\(name)'" }
            if actual != expected { return "CHECK '\(name)' saw \(hex(actual)), expected \(hex(expected))" }
            return passed ? nil : "CHECK '\(name)' failed in the guest"
        case .rejections(let count):
            let actual = result.events.filter { if case .rejected = $0 { true } else { false } }.count
            return actual == count ? nil : "expected \(count) refused requests, the host refused \(actual)"
        case .finalState(let range, let state):
            let states = result.finalStates.states(in: range)
            let covered = states.reduce(0) { $0 + $1.range.size }
            if covered != range.size { return "\(range) is not wholly tracked at the end" }
            if let wrong = states.first(where: { $0.state != state }) {
                return "\(wrong.range) ended \(wrong.state.rawValue), expected \(state.rawValue)"
            }
            return nil
        case .logLine(let line):
            let found = result.events.contains { if case .log(_, line) = $0 { true } else { false } }
            return found ? nil : "the guest logged no line \"\(line)\""
        case .terminates(let termination):
            let expected = VCPUStop.terminationRequested(termination)
            guard result.stops.contains(where: { $0.reason == expected }) else {
                let seen = result.stops.map(\.reason.description).joined(separator: "; ")
                return "expected \"\(expected)\", the run ended \(seen.isEmpty ? "with exit codes" : "with: \(seen)")"
            }
            let others = result.failures.filter { !$0.hasSuffix(expected.description) }
            return others.first.map { "besides the termination: \($0)" }
        case .custom(_, let check):
            return check(result)
        }
    }
}

/// One conversion as the event log must show it.
public struct ExpectedConversion: Sendable, Equatable, CustomStringConvertible {
    public let range: GPARange
    public let direction: PageState
    /// The form of the interface (e.g. `.request(.ghcbPSC)`); nil: any.
    public let form: ConversionForm?
    public let outcome: ConversionOutcome
    /// The part that must have flipped (nil: the whole range).
    public let flipped: [GPARange]?

    public init(
        _ start: UInt64, _ end: UInt64, to direction: PageState, form: ConversionForm? = nil, outcome: ConversionOutcome = .converted,
        flipped: [GPARange]? = nil
    ) {
        range = GPARange(start: start, end: end)
        self.direction = direction
        self.form = form
        self.outcome = outcome
        self.flipped = flipped
    }

    public var description: String {
        "\(range) → \(direction.rawValue)\(form.map { " via \($0)" } ?? "") \(outcome.name)"
    }

    static func describe(_ record: ConversionRecord) -> String {
        "\(record.range) → \(record.direction.rawValue) via \(record.form) \(record.outcome.name)"
    }

    func difference(from record: ConversionRecord) -> String? {
        if record.range != range { return "range" }
        if record.direction != direction { return "direction" }
        if let form, record.form != form { return "interface form" }
        if record.outcome != outcome { return "outcome" }
        let expectedFlip = flipped ?? (outcome.succeeded ? [range] : [])
        if record.flipped != expectedFlip {
            return "flipped \(record.flipped.map(\.description).joined(separator: " ")), expected \(expectedFlip.map(\.description).joined(separator: " "))"
        }
        return nil
    }
}
