import Dispatch
import Foundation

/// Runs `handler` on a private queue when one of `signals` arrives, instead of the default
/// action (which would kill the process before it wrote its reports or removed its files).
final class SignalWatch {
    private var sources: [DispatchSourceSignal] = []
    private let signals: [Int32]

    init(_ signals: [Int32], handler: @escaping @Sendable (Int32, String) -> Void) {
        self.signals = signals
        let queue = DispatchQueue(label: "enlighten.signals")
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            let name = Self.name(number)
            source.setEventHandler { handler(number, name) }
            source.resume()
            sources.append(source)
        }
    }

    static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        default: "signal \(number)"
        }
    }

    /// Stops watching and gives the signals their default action back (cancelling the
    /// sources alone would leave them ignored: a later Ctrl-C would do nothing).
    func cancel() {
        for source in sources { source.cancel() }
        sources.removeAll()
        for number in signals { signal(number, SIG_DFL) }
    }
}
