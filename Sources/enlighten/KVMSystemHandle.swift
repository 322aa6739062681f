import HostRunner
import KVM

/// /dev/kvm opened once and probed once (under the host options' profile), for commands
/// that run many guests, with the RAM backing their runs use.
struct KVMSystemHandle {
    let system: KVMSystem
    let probe: HostProbe
    let backing: RAMBacking

    /// Throws `RunError` when the host cannot run guests (no /dev/kvm, no permission), and
    /// the exit code of a usage error (an unknown profile, guest_memfd where there is none).
    static func open(_ host: HostOptions) throws -> KVMSystemHandle {
        let system = try RunError.openSystem()
        let (probe, backing) = try host.probe(system)
        return KVMSystemHandle(system: system, probe: probe, backing: backing)
    }
}
