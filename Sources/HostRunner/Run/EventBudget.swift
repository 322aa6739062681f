import Synchronization

/// The part of a run's event log the host keeps: the first `RunOptions.maxEvents` events of
/// each kind, across all vCPUs; the rest are counted, not kept. A guest can issue requests
/// and records as fast as it can exit, so without this the log (and `--json`) would grow
/// with the guest's run time instead of with anything the host chose.
///
/// A conversion counts once per range it lists (what flipped and what was already in
/// state), so a request over a fragmented range costs what it holds.
final class EventBudget: Sendable {
    private let limit: Int
    private let state = Mutex([RunEvent.Kind: Counts]())

    struct Counts: Sendable {
        var kept = 0
        var dropped = 0
    }

    init(limit: Int) { self.limit = limit }

    /// Whether `event` may be kept; counts it as dropped when not.
    func admit(_ event: RunEvent) -> Bool {
        let weight = event.weight
        return state.withLock { counts in
            var entry = counts[event.kind, default: Counts()]
            defer { counts[event.kind] = entry }
            guard entry.kept + weight <= limit else {
                entry.dropped += 1
                return false
            }
            entry.kept += weight
            return true
        }
    }

    /// Events of each kind past the limit, for the report.
    var dropped: [RunEvent.Kind: Int] {
        state.withLock { $0.compactMapValues { $0.dropped > 0 ? $0.dropped : nil } }
    }
}

extension RunEvent {
    /// What `EventBudget` counts separately.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case log, check, checksum, value, record, malformedRecord, unserved, conversion, rejected, validation, served, exit
    }

    public var kind: Kind {
        switch self {
        case .log: .log
        case .record(_, .check): .check
        case .record(_, .checksum): .checksum
        case .record(_, .value): .value
        case .record: .record
        case .malformedRecord: .malformedRecord
        case .msr, .ignoredIO: .unserved
        case .conversion: .conversion
        case .rejected: .rejected
        case .validation: .validation
        case .served: .served
        case .exited, .stopped: .exit
        }
    }

    var weight: Int {
        if case .conversion(_, let record) = self { return max(1, record.flipped.count + record.unchanged.count) }
        return 1
    }
}
