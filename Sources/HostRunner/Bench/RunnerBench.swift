import Foundation
import GuestPhysical
import KVM
import Payload

/// The runner's own code paths with a clock around exactly the part one figure of
/// `enlighten bench` measures (docs/benchmarks.md). Nothing here is a second implementation:
/// each figure goes through `Machine`, `Population` and `VCPULoop` as `Runner.run` does, so
/// what is measured is what users run.
public enum RunnerBench {
    /// Opens /dev/kvm and builds a `Machine` for `image`: VM, RAM in the run's backing and memslots,
    /// the plan pre-populated, vCPUs with CPUID and boot state: ready to run. The host probe
    /// is a per-process cost (it runs test guests), so the caller gives it and it is not
    /// timed. Tear-down happens after the clock stops.
    public static func setup(_ image: Image, options: RunOptions, probe: HostProbe, path: String = "/dev/kvm") throws(RunError) -> Duration {
        let start = ContinuousClock.now
        let system = try RunError.openSystem(path: path)
        let machine = try Machine(image: image, options: options, system: system, probe: probe)
        // Read the clock while the machine is provably alive: its release is not setup.
        return withExtendedLifetime(machine) { ContinuousClock.now - start }
    }

    /// Pre-populates `image` into fresh RAM of `memory` bytes in `backing` (guest_memfd or the
    /// memfd stand-in), bound as `Machine` binds it; only `Population.populate` is timed, the
    /// same call `Machine` makes.
    public static func population(_ image: Image, memory: UInt64, backing: RAMBacking, system: KVMSystem) throws(RunError) -> Duration {
        let range = GPARange(start: 0, end: memory)
        let ram: GuestMapping
        let vm: VirtualMachine
        do {
            vm = try system.createVM(type: .default)
            ram = try backing.slot(vm: vm, slot: Machine.ramSlot, range: range, name: "ram")
        } catch {
            throw .kvm(error)
        }
        let guestMemory = GuestMemory(regions: [GuestMemory.Region(name: "ram", range: range, base: ram.base)])
        let start = ContinuousClock.now
        _ = try Population.populate(image: image, into: guestMemory)
        return withExtendedLifetime((vm, ram)) { ContinuousClock.now - start }
    }

    /// A direct64 image whose plan is one measured range of `bytes` at GPA 0, filled with a
    /// non-zero pattern. The bytes are written here, so they are resident before any timing,
    /// as a linked image's are once it has been read.
    public static func payloadImage(bytes: Int) throws(ImageError) -> Image {
        let range = GPARange(start: 0, end: UInt64(bytes))
        return try Image(
            synthetic: "bench-payload", layout: .direct64, entry: 0, pageTableRoot: 0,
            segments: [LoadSegment(address: 0, bytes: [UInt8](repeating: 0x5A, count: bytes))],
            plan: PopulationPlan(ranges: [PlanRange(name: "payload", range: range, kind: .measured, state: .private)]))
    }
}
