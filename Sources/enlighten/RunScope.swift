import Foundation
import Payload

/// A command's temporary files: one run folder (`RunFolder`), made on first use and removed
/// on every way out — `close()` when the command returns or throws, and on SIGINT, SIGTERM or
/// SIGHUP, after which the process exits 128+N. The signals are watched from before the folder
/// exists, and the folder is made under the lock the handler takes, so no signal can fall
/// between making it and being able to remove it. SIGKILL cannot be caught; nothing else
/// leaves the folder behind.
///
/// Removing the folder makes the builds still running fail (their tools are stopped, their
/// files gone). Those failures are the signal's doing, not the user's input: once a signal is
/// being handled, `close()` never returns, so the command reports no error of its own and the
/// process ends as the handler says, 128+N.
final class RunScope: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var made: RunFolder?
    private var ending = false
    private var signalled = false
    private var watch: SignalWatch?

    /// `interrupted` runs on a signal once the folder is gone, before the exit (conformance
    /// writes its reports there); the default says which signal stopped the command.
    /// Whether `close()` gives the signals their default action back. A command whose last
    /// act is writing reports keeps them watched to its exit instead: a signal landing after
    /// `close()` then still ends it through `interrupted` and 128+N, never by the default action
    /// halfway through its output.
    private let restoresSignals: Bool

    init(restoresSignals: Bool = true, interrupted: @escaping @Sendable (Int32, String) -> Void = RunScope.sayStopped) {
        self.restoresSignals = restoresSignals
        watch = SignalWatch([SIGINT, SIGTERM, SIGHUP]) { [self] number, name in
            lock.lock()
            signalled = true
            lock.unlock()
            end()
            interrupted(number, name)
            Foundation.exit(128 + number)
        }
    }

    static let sayStopped: @Sendable (Int32, String) -> Void = { _, name in
        FileHandle.standardError.write(Data("\n\(name): stopped; temporary files removed\n".utf8))
    }

    /// The run folder, made on first call.
    func folder() throws(BuildError) -> RunFolder {
        lock.lock()
        defer { lock.unlock() }
        if let made { return made }
        guard !ending else { throw .output(path: NSTemporaryDirectory(), reason: "the command is stopping; no new temporary folder") }
        let folder = try RunFolder()
        made = folder
        return folder
    }

    /// Removes the folder and (unless made with `restoresSignals: false`) gives the signals
    /// their default action back; call it before reporting how the command went. While a
    /// signal is being handled it waits for the handler's exit instead.
    func close() {
        lock.lock()
        let stopping = signalled
        lock.unlock()
        if stopping { DispatchSemaphore(value: 0).wait() }
        // The folder goes before the signals are given back: a signal between the two would
        // otherwise kill the process with the folder still there.
        end()
        guard restoresSignals else { return }
        watch?.cancel()
        watch = nil
    }

    private func end() {
        lock.lock()
        ending = true
        let folder = made
        lock.unlock()
        folder?.remove()
    }
}
