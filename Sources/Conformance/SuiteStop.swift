import Synchronization

/// Tells a running suite to start no more cases, and why: a signal, or its deadline. Cases
/// already running finish (each under its own watchdog); the rest are reported not run.
public final class SuiteStop: Sendable {
    private struct State {
        var reason: String?
        var deadline: (at: ContinuousClock.Instant, seconds: Double)?
    }

    private let state = Mutex(State())

    public init() {}

    /// Why no more cases start, or nil while they may.
    public var reason: String? {
        state.withLock { state in
            if state.reason == nil, let deadline = state.deadline, ContinuousClock.now >= deadline.at {
                state.reason = "the suite deadline of \(Self.seconds(deadline.seconds)) passed"
            }
            return state.reason
        }
    }

    /// The first reason wins.
    public func stop(_ reason: String) {
        state.withLock { state in if state.reason == nil { state.reason = reason } }
    }

    func expire(after seconds: Double) {
        state.withLock { $0.deadline = (ContinuousClock.now + .milliseconds(Int64((seconds * 1000).rounded())), seconds) }
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
