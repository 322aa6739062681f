import Foundation
import KVM

/// Starts one thread per vCPU loop and waits for them all, with the watchdog: when the time
/// is up every vCPU is kicked out of KVM_RUN and stops with a timeout.
enum VCPUThreads {
    /// `work` runs on each loop's own thread (by default the loop itself; a benchmark wraps it
    /// in a timer). Returns when every thread has let go of its loop.
    static func run(_ loops: [VCPULoop], control: RunControl, timeout: Double, work: @escaping (VCPULoop) -> Void = { $0.run() }) {
        let group = DispatchGroup()
        for loop in loops {
            let handoff = Handoff(loop, work)
            group.enter()
            let thread = Thread {
                VCPUKicker.acceptKicksOnThisThread()
                handoff.run()
                group.leave()
            }
            thread.name = "vcpu-\(loop.index)"
            thread.start()
        }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            control.expire()
            // A kicked vCPU leaves KVM_RUN at once; keep kicking in case one was between runs.
            while group.wait(timeout: .now() + 0.05) == .timedOut { control.expire() }
        }
        control.finish()
    }

    /// Hands a vCPU loop to the one thread that runs it. The thread drops its references
    /// before it signals the group, so when `run` returns the caller holds the last
    /// references to the machine and everything is released before the caller goes on. No
    /// access is concurrent: the caller reads the loop only after the group says the thread
    /// is done.
    private final class Handoff: @unchecked Sendable {
        private var loop: VCPULoop?
        private var work: ((VCPULoop) -> Void)?

        init(_ loop: VCPULoop, _ work: @escaping (VCPULoop) -> Void) {
            self.loop = loop
            self.work = work
        }

        func run() {
            if let loop, let work { work(loop) }
            loop = nil
            work = nil
        }
    }
}
