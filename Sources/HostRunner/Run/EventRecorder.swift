/// What one vCPU keeps of its run: events admitted by the run's `EventBudget`, the checksums
/// kept with the host's own, and the counts of what was not kept (failures past the budget,
/// unserved accesses past the first ones, log bytes past the limit). Pure bookkeeping: no
/// vCPU, so it is tested without /dev/kvm.
final class EventRecorder {
    let vcpu: Int
    private let budget: EventBudget
    private let logLimit: Int
    /// Where each kept log line is streamed as it arrives (the CLI's live log), if anywhere.
    private let stream: ((RunEvent) -> Void)?
    /// The events this vCPU kept.
    private(set) var events: [RunEvent] = []
    /// Every CHECKSUM kept, with the host's checksum computed when the record arrived.
    private(set) var checksums: [RunResult.ChecksumComparison] = []
    /// Failed CHECKs and mismatched CHECKSUMs past the budget: not kept, but still failures.
    private(set) var failuresNotKept = 0
    /// Log text past `logLimit` or the budget, in bytes.
    private(set) var droppedLogBytes = 0
    private var logBytes = 0
    /// Accesses to ports and MSRs nobody serves: the first ones are logged, the rest counted,
    /// so a guest hammering an unknown port cannot grow the event log without bound.
    private var unserved = 0
    static let unservedLogged = 256
    /// Where the transports and platforms append what they did while serving one exit;
    /// moved into `events` through the budget after it (`keepPending`).
    var pending: [RunEvent] = []

    init(vcpu: Int, budget: EventBudget, logLimit: Int, stream: ((RunEvent) -> Void)? = nil) {
        self.vcpu = vcpu
        self.budget = budget
        self.logLimit = logLimit
        self.stream = stream
        events.reserveCapacity(64)
        pending.reserveCapacity(4)
    }

    /// Every validation served, kept in `events` or not.
    private(set) var validations = ValidationTally()

    /// Keeps `event` if the run's budget allows; true when kept. A validation is tallied
    /// either way.
    @discardableResult
    func keep(_ event: RunEvent) -> Bool {
        if case .validation(_, let record) = event { validations.add(record) }
        guard budget.admit(event) else { return false }
        events.append(event)
        return true
    }

    /// Moves what serving the last exit appended into the log, through the budget.
    func keepPending() {
        for event in pending { keep(event) }
        pending.removeAll(keepingCapacity: true)
    }

    /// The vCPU's last event (its exit code or why it stopped): always kept.
    func finish(_ event: RunEvent) { events.append(event) }

    /// A port or MSR access nobody serves.
    func noteUnserved(_ event: RunEvent) {
        unserved += 1
        if unserved <= Self.unservedLogged { keep(event) }
    }

    /// Unserved port and MSR accesses beyond those logged.
    var unservedNotLogged: Int { max(0, unserved - Self.unservedLogged) }

    /// A report record other than a CHECKSUM; a failed CHECK past the budget is still counted.
    func keep(record: ReportRecord) {
        if !keep(.record(vcpu: vcpu, record)), case .check(_, _, _, false) = record { failuresNotKept += 1 }
    }

    /// A CHECKSUM record with the host's comparison; a mismatch past the budget is still counted.
    func keep(checksum record: ReportRecord, _ comparison: RunResult.ChecksumComparison) {
        if keep(.record(vcpu: vcpu, record)) {
            checksums.append(comparison)
        } else if !comparison.matches {
            failuresNotKept += 1
        }
    }

    /// One log line, kept while the log limit and the budget allow, streamed when kept.
    func keepLog(_ text: String) {
        let size = text.utf8.count
        guard logBytes + size <= logLimit else {
            droppedLogBytes += size
            return
        }
        let event = RunEvent.log(vcpu: vcpu, line: text)
        guard keep(event) else {
            droppedLogBytes += size
            return
        }
        logBytes += size
        stream?(event)
    }
}
