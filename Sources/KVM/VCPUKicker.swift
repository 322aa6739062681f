import CKVM
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The signal used to kick a vCPU thread out of KVM_RUN.
let kickSignal: Int32 = SIGUSR1

/// Installs, once per process, a no-op SIGUSR1 handler without SA_RESTART, so a thread
/// blocked in KVM_RUN that is sent SIGUSR1 returns EINTR. This is the one process-wide
/// side effect of the module: the handler does nothing, and a Swift global `let` runs its
/// initializer exactly once, thread-safely. The value is 0 or the errno of sigaction.
let kickHandlerStatus: Int32 = ckvm_install_kick_handler(kickSignal)

/// The state a vCPU shares with its kickers: the kvm_run mapping (so a kicker can set
/// immediate_exit even after the VCPU object is gone) and the thread currently inside
/// KVM_RUN. Unmaps kvm_run exactly once, in `deinit`.
///
/// `@unchecked Sendable`: `run`/`mapSize` never change; the only cross-thread accesses are
/// the atomic store to `run->immediate_exit` and `runningThread`, which a Mutex guards.
final class RunState: @unchecked Sendable {
    let run: UnsafeMutablePointer<kvm_run>
    let mapSize: Int
    private let runningThread = Mutex<pthread_t?>(nil)

    init(run: UnsafeMutablePointer<kvm_run>, mapSize: Int) {
        self.run = run
        self.mapSize = mapSize
    }

    deinit {
        // SAFETY: `run`/`mapSize` are exactly what mmap returned; unmapped once, here.
        _ = munmap(UnsafeMutableRawPointer(run), mapSize)
    }

    /// Called by the vCPU thread right before KVM_RUN.
    @inline(__always)
    func enter() { runningThread.withLock { $0 = pthread_self() } }

    /// Called by the vCPU thread right after KVM_RUN.
    @inline(__always)
    func leave() { runningThread.withLock { $0 = nil } }

    /// Sets immediate_exit, then signals the thread inside KVM_RUN, if any. Holding the lock
    /// keeps that thread registered (so alive) while it is signalled.
    func kick() {
        runningThread.withLock { thread in
            // SAFETY: atomic store into the kvm_run mapping this object keeps alive.
            ckvm_run_set_immediate_exit(run, 1)
            if let thread {
                // SAFETY: `thread` is registered only while it is inside run(), so it is alive.
                _ = pthread_kill(thread, kickSignal)
            }
        }
    }
}

/// Stops a vCPU's KVM_RUN from any thread: `run()` then returns `.interrupted` (and a
/// kick sent while the vCPU is not running makes its next `run()` return `.interrupted`
/// at once). Uses immediate_exit plus SIGUSR1 (see `kickHandlerStatus`).
public struct VCPUKicker: Sendable {
    let state: RunState

    /// Sets kvm_run->immediate_exit and sends SIGUSR1 to the thread in KVM_RUN.
    public func kick() { state.kick() }

    /// Lets the calling thread receive kicks. Call it first on every thread that runs a
    /// vCPU: threads inherit their creator's signal mask, and a thread started from a
    /// libdispatch worker (an OperationQueue, as the conformance suite uses) has SIGUSR1
    /// blocked, so KVM_RUN would never return and the watchdog would never fire.
    public static func acceptKicksOnThisThread() {
        _ = ckvm_unblock_signal(kickSignal)
    }
}
