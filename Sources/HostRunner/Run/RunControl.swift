import Foundation
import KVM
import Synchronization

/// What the vCPU threads of one run share: the watchdog's verdict, the kickers that let it
/// stop every vCPU, and the sink that streams log lines as they arrive.
final class RunControl: Sendable {
    let timeout: Double
    /// Which events the run keeps (shared by every vCPU).
    let budget: EventBudget
    private let state = Mutex(State())
    private let sink: (@Sendable (RunEvent) -> Void)?

    private struct State {
        var kickers: [VCPUKicker] = []
        var timedOut = false
        var finished = false
    }

    init(timeout: Double, maxEvents: Int, sink: (@Sendable (RunEvent) -> Void)?) {
        self.timeout = timeout
        budget = EventBudget(limit: maxEvents)
        self.sink = sink
    }

    func register(_ kicker: VCPUKicker) {
        let late = state.withLock { state -> Bool in
            state.kickers.append(kicker)
            return state.timedOut
        }
        if late { kicker.kick() }
    }

    var timedOut: Bool { state.withLock { $0.timedOut } }

    func stream(_ event: RunEvent) { sink?(event) }

    /// Called by the watchdog when the time is up: every vCPU leaves KVM_RUN with EINTR and
    /// sees `timedOut`.
    func expire() {
        let kickers = state.withLock { state -> [VCPUKicker] in
            guard !state.finished else { return [] }
            state.timedOut = true
            return state.kickers
        }
        for kicker in kickers { kicker.kick() }
    }

    func finish() { state.withLock { $0.finished = true } }
}
