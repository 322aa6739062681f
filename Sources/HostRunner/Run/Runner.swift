import Foundation
import KVM
import Payload

/// Runs an image on /dev/kvm: builds the machine, starts every vCPU on its own thread,
/// watches the clock, and gathers what happened into a `RunResult`.
public enum Runner {
    public static func run(
        _ image: Image, options: RunOptions = RunOptions(), system: KVMSystem,
        sink: (@Sendable (RunEvent) -> Void)? = nil
    ) throws(RunError) -> RunResult {
        let started = ContinuousClock.now
        let machine = try Machine(image: image, options: options, system: system)
        let control = RunControl(timeout: options.timeout, sink: sink)
        let loops = machine.vcpus.enumerated().map { index, vcpu in
            VCPULoop(index: index, vcpu: vcpu, machine: machine, control: control)
        }
        let group = DispatchGroup()
        for loop in loops {
            let handoff = ThreadHandoff(loop)
            group.enter()
            let thread = Thread {
                handoff.value.run()
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
            image: image, population: machine.population,
            events: loops.flatMap(\.events), vcpus: loops.count,
            exits: loops.reduce(0) { $0 + $1.exits }, droppedLogBytes: loops.reduce(0) { $0 + $1.droppedLog },
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}

/// Hands a vCPU loop to the one thread that runs it; read back only after that thread ended
/// (the DispatchGroup orders the two), so no access is ever concurrent.
private final class ThreadHandoff: @unchecked Sendable {
    let value: VCPULoop
    init(_ value: VCPULoop) { self.value = value }
}
