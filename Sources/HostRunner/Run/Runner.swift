import Foundation
import GuestPhysical
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
        try options.validate()
        let resolved: HostProbe
        if let probe {
            resolved = probe
        } else {
            do { resolved = try HostProbe.once(system: system) } catch { throw .kvm(error) }
        }
        let machine = try Machine(image: image, options: options, system: system, probe: resolved)
        let control = RunControl(timeout: options.timeout, maxEvents: options.maxEvents, sink: sink)
        let loops = machine.vcpus.enumerated().map { index, vcpu in
            VCPULoop(index: index, vcpu: vcpu, machine: machine, control: control)
        }
        VCPUThreads.run(loops, control: control, timeout: options.timeout)
        let elapsed = ContinuousClock.now - started
        return RunResult(
            image: image, population: machine.population, transports: machine.transports, ramBacking: machine.ramBacking,
            finalStates: machine.service.pageStates,
            events: loops.flatMap(\.events), vcpus: loops.count,
            exits: loops.reduce(0) { $0 + $1.exits }, droppedLogBytes: loops.reduce(0) { $0 + $1.droppedLog },
            unservedNotLogged: loops.reduce(0) { $0 + $1.unservedNotLogged },
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            checksums: loops.flatMap(\.checksums), eventsNotKept: control.budget.dropped,
            failuresNotKept: loops.reduce(0) { $0 + $1.failuresNotKept },
            ram: GPARange(start: 0, end: options.memory), platform: options.platform,
            validations: loops.reduce(into: ValidationTally()) { $0.merge($1.validations) })
    }
}
