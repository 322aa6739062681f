import Synchronization

/// The part of a run's event log the host keeps: the first `RunOptions.maxEvents` events of
/// each kind, across all vCPUs; the rest are counted, not kept. A guest can issue requests
/// and records as fast as it can exit, so without this the log (and `--json`) would grow
/// with the guest's run time instead of with anything the host chose.
///
/// A conversion counts once per range it lists (what flipped and what was already in
/// state), so a request over a fragmented range costs what it holds.
///
/// It is asked once per event on every vCPU's hot path, so the counts are a fixed array
/// indexed by kind (no hashing of the kind's name, no allocation).
final class EventBudget: Sendable {
    private let limit: Int
    private let state = Mutex([Counts](repeating: Counts(), count: RunEvent.Kind.allCases.count))

    struct Counts: Sendable {
        var kept = 0
        var dropped = 0
    }

    init(limit: Int) { self.limit = limit }

    /// Whether `event` may be kept; counts it as dropped when not.
    func admit(_ event: RunEvent) -> Bool {
        let weight = event.weight, kind = event.kind.position
        return state.withLock { counts in
            guard counts[kind].kept + weight <= limit else {
                counts[kind].dropped += 1
                return false
            }
            counts[kind].kept += weight
            return true
        }
    }

    /// Events of each kind past the limit, for the report.
    var dropped: [RunEvent.Kind: Int] {
        let counts = state.withLock { $0 }
        var dropped: [RunEvent.Kind: Int] = [:]
        for kind in RunEvent.Kind.allCases where counts[kind.position].dropped > 0 { dropped[kind] = counts[kind.position].dropped }
        return dropped
    }
}

extension RunEvent {
    /// What `EventBudget` counts separately.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case log, check, checksum, value, record, malformedRecord, unserved, conversion, rejected, validation, served, exit

        /// The kind's place in `allCases`, the index of its counts in the budget.
        var position: Int { Self.ordered.firstIndex(of: self) ?? 0 }
        private static let ordered = allCases
    }

    public var kind: Kind {
        switch self {
        case .log: .log
        case .record(_, .check): .check
        case .record(_, .checksum): .checksum
        case .record(_, .value): .value
        case .record: .record
        case .malformedRecord: .malformedRecord
        case .msr, .ignoredIO, .ignoredMMIO: .unserved
        case .conversion: .conversion
        case .rejected: .rejected
        case .validation: .validation
        case .served, .emulated, .milestone: .served
        case .exited, .stopped, .stoppedAtMilestone: .exit
        }
    }

    var weight: Int {
        if case .conversion(_, let record) = self { return max(1, record.flipped.count + record.unchanged.count) }
        return 1
    }
}
