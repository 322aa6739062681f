import Foundation
import KVM
import Payload

/// Runs an image on /dev/kvm: builds the machine, starts every vCPU on its own thread,
/// watches the clock, and gathers what happened into a `RunResult`.
public enum Runner {
    public static func run(
        _ image: Image, options: RunOptions = RunOptions(), system: KVMSystem, probe: HostProbe? = nil,
        sink: (@Sendable (RunEvent) -> Void)? = nil
    ) throws(RunError) -> RunResult {
        let started = ContinuousClock.now
        let resolved: HostProbe
        if let probe {
            resolved = probe
        } else {
            do { resolved = try HostProbe.run(system: system) } catch { throw .kvm(error) }
        }
        let machine = try Machine(image: image, options: options, system: system, probe: resolved)
        let control = RunControl(timeout: options.timeout, sink: sink)
        let loops = machine.vcpus.enumerated().map { index, vcpu in
            VCPULoop(index: index, vcpu: vcpu, machine: machine, control: control)
        }
        let group = DispatchGroup()
        for loop in loops {
            let handoff = ThreadHandoff(loop)
            group.enter()
            let thread = Thread {
                handoff.run()
                group.leave()
            }
            thread.name = "vcpu-\(loop.index)"
            thread.start()
        }
        if group.wait(timeout: .now() + options.timeout) == .timedOut {
            control.expire()
            // A kicked vCPU leaves KVM_RUN at once; keep kicking in case one was between runs.
            while group.wait(timeout: .now() + 0.05) == .timedOut { control.expire() }
        }
        control.finish()
        let elapsed = ContinuousClock.now - started
        return RunResult(
            image: image, population: machine.population, transports: machine.transports,
            finalStates: machine.service.pageStates,
            events: loops.flatMap(\.events), vcpus: loops.count,
            exits: loops.reduce(0) { $0 + $1.exits }, droppedLogBytes: loops.reduce(0) { $0 + $1.droppedLog },
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}

/// Hands a vCPU loop to the one thread that runs it. The thread drops its reference before
/// it signals the group, so when `run` returns, the caller holds the last references to the
/// machine and everything is released before the caller goes on. No access is concurrent:
/// the caller reads the loop only after the group says the thread is done.
private final class ThreadHandoff: @unchecked Sendable {
    private var loop: VCPULoop?
    init(_ loop: VCPULoop) { self.loop = loop }

    func run() {
        loop?.run()
        loop = nil
    }
}
