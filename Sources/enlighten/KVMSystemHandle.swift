import HostRunner
import KVM

/// /dev/kvm opened once and probed once, for commands that run many guests.
struct KVMSystemHandle {
    let system: KVMSystem
    let probe: HostProbe

    static func open() throws(RunError) -> KVMSystemHandle {
        let system = try RunError.openSystem()
        do {
            return KVMSystemHandle(system: system, probe: try HostProbe.run(system: system))
        } catch {
            throw .kvm(error)
        }
    }
}
