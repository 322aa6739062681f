import Foundation
import HostRunner
import Payload

/// How each figure is measured; docs/benchmarks.md says what each one means.
extension BenchSession {
    typealias Built = (image: Image, files: ImageWriter.Written)

    static let payloadBytes = 64 << 20
    /// Setups per round on each side: one takes about a millisecond, so a round gets several.
    static let setupsPerRound = 4

    /// VM ready to run, on the bench-exits image (the guest both sides run next), with the
    /// runner's default 64 MiB of guest_memfd RAM on both sides.
    func setupFigure(_ built: Built) throws(BenchError) -> BenchFigure {
        let options = RunOptions()
        var results: [BenchFigure.Round] = []
        for _ in 0..<rounds {
            let floorSamples = try floor.measure([
                "setup", built.files.elf, hex(built.image.pageTableRoot),
                "--repeat", "\(Self.setupsPerRound)", "--memory", "\(options.memory)",
            ]).samples
            var ourSamples: [Double] = []
            for _ in 0..<Self.setupsPerRound {
                do {
                    ourSamples.append(try RunnerBench.setup(built.image, options: options, probe: probe).seconds)
                } catch {
                    throw .runner("setup: \(error)")
                }
            }
            results.append(BenchFigure.Round(floor: floorSamples.median * 1e3, ours: ourSamples.median * 1e3))
        }
        return BenchFigure(id: "setup", name: "VM ready to run", floorKind: "raw ioctls", unit: "ms", rounds: results, target: .atMost(1.5))
    }

    /// Ours per exit (or per request) of `loop`'s guest against the floor's per-exit cost
    /// of the port-I/O loop; both time the exit loop only, from the first KVM_RUN to the
    /// exit code.
    func loopFigure(_ loop: LoopFigure, portExitImage: Built) throws(BenchError) -> BenchFigure {
        let built = loop.stub == LoopFigure.portExit.stub ? portExitImage : try build(loop.stub, layout: .direct64)
        var options = RunOptions()
        options.platform = loop.platform
        options.timeout = 60
        var results: [BenchFigure.Round] = []
        for _ in 0..<rounds {
            let line = try floor.measure(["exits", portExitImage.files.elf, hex(portExitImage.image.pageTableRoot), "--repeat", "1"])
            guard let floorExits = line.exits, floorExits > 0 else { throw .floorFailed("the floor's exit loop counted no exits") }
            let floorMicroseconds = Double(line.medianNs) / 1e3 / Double(floorExits)

            let run: RunnerBench.LoopRun
            do { run = try RunnerBench.exitLoop(built.image, options: options, system: system, probe: probe) } catch { throw .runner("\(loop.stub): \(error)") }
            if let failure = run.failure { throw .runner("\(loop.stub): \(failure)") }
            let units: Int
            switch loop.per {
            case .exit:
                guard run.exits == floorExits else {
                    throw .mismatch("\(loop.stub) took \(floorExits) exits on the floor and \(run.exits) in the runner")
                }
                units = run.exits
            case .request:
                guard run.requests > 0 else { throw .runner("\(loop.stub) made no conversion request") }
                units = run.requests
            }
            results.append(BenchFigure.Round(floor: floorMicroseconds, ours: run.duration.seconds * 1e6 / Double(units)))
        }
        return BenchFigure(id: loop.id, name: loop.name, floorKind: "raw ioctls", unit: "µs", rounds: results, target: .atMost(loop.target))
    }

    /// Pre-populating a 64 MiB measured payload into fresh guest_memfd through the runner's
    /// population path, against memcpy of 64 MiB into fresh anonymous memory.
    func populationFigure() throws(BenchError) -> BenchFigure {
        let bytes = Self.payloadBytes
        let image: Image
        do { image = try RunnerBench.payloadImage(bytes: bytes) } catch { throw .runner("payload image: \(error)") }
        var results: [BenchFigure.Round] = []
        for _ in 0..<rounds {
            let line = try floor.measure(["memcpy", "\(bytes)", "--repeat", "1"])
            let elapsed: Duration
            do { elapsed = try RunnerBench.population(image, memory: UInt64(bytes), system: system) } catch { throw .runner("population: \(error)") }
            results.append(BenchFigure.Round(floor: Double(bytes) / Double(line.medianNs), ours: Double(bytes) / elapsed.seconds / 1e9))
        }
        return BenchFigure(id: "population", name: "pre-populate \(bytes >> 20) MiB", floorKind: "memcpy", unit: "GB/s",
                           rounds: results, target: .atLeast(0.8))
    }

    /// `enlighten run` of the firmware-layout hello against QEMU booting the same ROM:
    /// whole-process wall time, spawn to reaped exit, on both sides. Reported, not judged.
    func qemuFigure() throws(BenchError) -> BenchFigure? {
        guard let qemu = BenchProcess.find("qemu-system-x86_64") else {
            skip("qemu-hello", because: "qemu-system-x86_64 is not on PATH")
            return nil
        }
        guard let enlighten = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            skip("qemu-hello", because: "cannot tell where this enlighten executable is (/proc/self/exe)")
            return nil
        }
        let hello = try build("GuestStubs/scenarios/hello.asm", layout: .firmware)
        guard let rom = hello.files.rom else { throw .runner("hello was built without its ROM") }
        let qemuArguments = ["-enable-kvm", "-bios", rom, "-display", "none", "-nodefaults", "-no-reboot",
                             "-debugcon", "file:/dev/null", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        var results: [BenchFigure.Round] = []
        for _ in 0..<rounds {
            let qemuRun = try BenchProcess.run(qemu, qemuArguments, captureOutput: false, scratch: scratch)
            // isa-debug-exit makes the status (code << 1) | 1: hello's 0 is 1.
            guard qemuRun.status == 1 else { throw .runner("QEMU ended with status \(qemuRun.status) instead of 1: \(qemuRun.errorOutput)") }
            let ourRun = try BenchProcess.run(enlighten, ["run", hello.files.elf], captureOutput: false, scratch: scratch)
            guard ourRun.status == 0 else { throw .runner("enlighten run \(hello.files.elf) ended with status \(ourRun.status): \(ourRun.errorOutput)") }
            results.append(BenchFigure.Round(floor: qemuRun.seconds, ours: ourRun.seconds))
        }
        return BenchFigure(id: "qemu-hello", name: "run hello (firmware), whole process", floorKind: "QEMU", unit: "s",
                           rounds: results, target: nil)
    }
}
