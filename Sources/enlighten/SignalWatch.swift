import Dispatch
import Foundation

/// Runs `handler` on a private queue when one of `signals` arrives, instead of the default
/// action (which would kill the process before it wrote its reports).
final class SignalWatch {
    private var sources: [DispatchSourceSignal] = []

    init(_ signals: [Int32], handler: @escaping @Sendable (Int32, String) -> Void) {
        let queue = DispatchQueue(label: "enlighten.signals")
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            let name = number == SIGINT ? "SIGINT" : number == SIGTERM ? "SIGTERM" : "signal \(number)"
            source.setEventHandler { handler(number, name) }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
        sources.removeAll()
    }
}
