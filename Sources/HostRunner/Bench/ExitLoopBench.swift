import Foundation
import KVM
import Payload

extension RunnerBench {
    /// One timed run of the exit loop.
    public struct LoopRun: Sendable {
        /// Every KVM_RUN that returned, counted as the loop counts them.
        public let exits: Int
        /// From the loop's first KVM_RUN to the handling of the exit that ended it.
        public let duration: Duration
        /// Conversion requests the host served or rejected (any interface, any transport).
        public let requests: Int
        /// Of those, the ones rejected or not converted.
        public let failedRequests: Int
        /// Validations and acceptances the host served (SNP PVALIDATE, TDX TDG.MEM.PAGE.ACCEPT).
        public let validations: Int
        /// Of those, the ones that changed nothing (an error, or no update).
        public let failedValidations: Int
        /// Port accesses the guest forwarded through its platform's protocol (GHCB IOIO NAE
        /// events, TDVMCALL Instruction.IO) and the host served.
        public let forwarded: Int
        /// Why the run did not end with exit code 0; nil when it did.
        public let failure: String?
    }

    /// Builds a machine for `image` (not timed), then runs vCPU 0's `VCPULoop` on a thread of
    /// its own as `Runner.run` does, and times the loop itself: the per-exit path, without
    /// the per-run costs (VM creation, thread start) that the setup figure covers. A
    /// watchdog stops the guest after `options.timeout`, as in a real run.
    public static func exitLoop(_ image: Image, options: RunOptions, system: KVMSystem, probe: HostProbe) throws(RunError) -> LoopRun {
        var single = options
        single.vcpus = 1
        let machine = try Machine(image: image, options: single, system: system, probe: probe)
        let control = RunControl(timeout: options.timeout, maxEvents: options.maxEvents, sink: nil)
        let timed = TimedLoop(VCPULoop(index: 0, vcpu: machine.vcpus[0], machine: machine, control: control))
        VCPUThreads.run([timed.loop], control: control, timeout: options.timeout) { _ in timed.run() }
        return timed.result
    }
}

/// Carries the loop to its thread and the timing back. The caller reads `result` only after
/// the thread has signalled that it is done, so no access is concurrent.
private final class TimedLoop: @unchecked Sendable {
    let loop: VCPULoop
    private var duration: Duration = .zero

    init(_ loop: VCPULoop) { self.loop = loop }

    func run() {
        let start = ContinuousClock.now
        loop.run()
        duration = ContinuousClock.now - start
    }

    var result: RunnerBench.LoopRun {
        var failure: String? = "the guest neither exited nor stopped"
        var requests = 0, failed = 0, validations = 0, failedValidations = 0, forwarded = 0
        for event in loop.events {
            switch event {
            case .exited(_, let code): failure = code == 0 ? nil : "the guest exited with code \(code)"
            case .stopped(_, let reason): failure = reason.description
            case .conversion(_, let record):
                requests += 1
                if !record.succeeded { failed += 1 }
            case .rejected:
                requests += 1
                failed += 1
            case .served(_, _, .portIO, _):
                forwarded += 1
            case .validation(_, let record):
                validations += 1
                if !record.changed { failedValidations += 1 }
            default: break
            }
        }
        return RunnerBench.LoopRun(
            exits: loop.exits, duration: duration, requests: requests, failedRequests: failed,
            validations: validations, failedValidations: failedValidations, forwarded: forwarded, failure: failure)
    }
}
