import Foundation
import GuestPhysical
import HostRunner
import Payload

/// How each figure is measured; docs/benchmarks.md says what each one means.
extension BenchSession {
    typealias Built = (image: Image, files: ImageWriter.Written)

    static let payloadBytes = 64 << 20
    /// Tries per round on each side of the short figures, of which each side's best counts:
    /// a setup takes about a millisecond and a 64 MiB population tens, so another process
    /// taking the CPU for a moment would otherwise decide a round (see docs/benchmarks.md).
    static let setupsPerRound = 8
    static let populationsPerRound = 5

    /// What every runner side of the bench runs with: the defaults, in the session's backing.
    func runOptions() -> RunOptions {
        var options = RunOptions()
        options.backing = backing.kind
        return options
    }

    /// VM ready to run, on the bench-exits image (the guest both sides run next), with the
    /// runner's default 64 MiB of RAM in the session's backing on both sides.
    func setupFigure(_ built: Built) throws(BenchError) -> BenchFigure {
        let options = runOptions()
        var results: [BenchFigure.Round] = []
        for round in 0..<rounds {
            let (floorSamples, ourSamples) = try inTurn(
                round,
                floor: { () throws(BenchError) in
                    try floor.measure([
                        "setup", built.files.elf, hex(built.image.pageTableRoot),
                        "--repeat", "\(Self.setupsPerRound)", "--memory", "\(options.memory)",
                    ]).samples
                },
                ours: { () throws(BenchError) in
                    var samples: [Double] = []
                    for _ in 0..<Self.setupsPerRound {
                        do { samples.append(try RunnerBench.setup(built.image, options: options, probe: probe).seconds) } catch {
                            throw .runner("setup: \(error)")
                        }
                    }
                    return samples
                })
            results.append(BenchFigure.Round(floor: floorSamples.smallest * 1e3, ours: ourSamples.smallest * 1e3))
        }
        return BenchFigure(id: "setup", name: "VM ready to run", floorKind: "raw ioctls", unit: "ms", rounds: results, target: .atMost(1.5), judged: true)
    }

    /// Ours per exit (or per request) of `loop`'s guest against the floor's per-exit cost
    /// of the port-I/O loop; both time the exit loop only, from the first KVM_RUN to the
    /// exit code. With `rawTrapFloor`, a second figure: ours against the floor serving the
    /// same image's requests itself.
    func loopFigures(_ loop: LoopFigure, portExitImage: Built) throws(BenchError) -> [BenchFigure] {
        let built = loop.stub == LoopFigure.portExit.stub ? portExitImage : try build(loop.stub, layout: .direct64)
        var options = runOptions()
        options.platform = loop.platform
        options.timeout = 60
        let site = built.image.sites.first?.address
        if loop.rawTrapFloor, site == nil { throw .runner("\(loop.stub) has no request site for the floor to trap") }
        var results: [BenchFigure.Round] = [], rawTrapResults: [BenchFigure.Round] = []
        for round in 0..<rounds {
            let (floorLines, run) = try inTurn(
                round,
                floor: { () throws(BenchError) -> (FloorFigure, FloorFigure?) in
                    let line = try floor.measure(["exits", portExitImage.files.elf, hex(portExitImage.image.pageTableRoot), "--repeat", "1"])
                    guard loop.rawTrapFloor, let site else { return (line, nil) }
                    return (line, try floor.measure(["trap", built.files.elf, hex(built.image.pageTableRoot), hex(site), "--repeat", "1"]))
                },
                ours: { () throws(BenchError) -> RunnerBench.LoopRun in
                    do { return try RunnerBench.exitLoop(built.image, options: options, system: system, probe: probe) } catch {
                        throw .runner("\(loop.stub): \(error)")
                    }
                })
            let (line, trapLine) = floorLines
            guard let floorExits = line.exits, floorExits > 0 else { throw .floorFailed("the floor's exit loop counted no exits") }
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
                guard run.failedRequests == 0 else { throw .runner("\(loop.stub): \(run.failedRequests) of \(run.requests) requests were not converted") }
                units = run.requests
            }
            let ours = run.duration.seconds * 1e6 / Double(units)
            results.append(BenchFigure.Round(floor: Double(line.medianNs) / 1e3 / Double(floorExits), ours: ours))
            if let trapLine {
                guard let requests = trapLine.requests, requests == run.requests else {
                    throw .mismatch("\(loop.stub) made \(trapLine.requests ?? 0) requests on the floor and \(run.requests) in the runner")
                }
                rawTrapResults.append(BenchFigure.Round(floor: Double(trapLine.medianNs) / 1e3 / Double(requests), ours: ours))
            }
        }
        var figures = [
            BenchFigure(
                id: loop.id, name: loop.name, floorKind: loop.per == .exit ? "raw ioctls" : "raw port-I/O exit", unit: "µs",
                rounds: results, target: .atMost(loop.target), judged: loop.judged)
        ]
        if !rawTrapResults.isEmpty {
            figures.append(
                BenchFigure(
                    id: loop.id + "-raw", name: loop.name.replacingOccurrences(of: "(trap)", with: "(trap, same work)"),
                    floorKind: "raw trap", unit: "µs", rounds: rawTrapResults, target: nil, judged: false))
        }
        return figures
    }

    /// Pre-populating a 64 MiB measured payload into fresh RAM (the session's backing) through
    /// the runner's population path, against the floor filling a fresh file of the same
    /// backing the same way (2 MiB chunks, each populated then copied); neither side's source
    /// is in cache.
    func populationFigure() throws(BenchError) -> BenchFigure {
        let bytes = Self.payloadBytes
        let image: Image
        do { image = try RunnerBench.payloadImage(bytes: bytes) } catch { throw .runner("payload image: \(error)") }
        var results: [BenchFigure.Round] = []
        for round in 0..<rounds {
            let (floorSeconds, ourSeconds) = try inTurn(
                round,
                floor: { () throws(BenchError) in
                    try floor.measure(["memcpy", "\(bytes)", "--repeat", "\(Self.populationsPerRound)"]).samples
                },
                ours: { () throws(BenchError) in
                    var samples: [Double] = []
                    for _ in 0..<Self.populationsPerRound {
                        do { samples.append(try RunnerBench.population(image, memory: UInt64(bytes), backing: backing, system: system).seconds) } catch {
                            throw .runner("population: \(error)")
                        }
                    }
                    return samples
                })
            results.append(BenchFigure.Round(floor: Double(bytes) / 1e9 / floorSeconds.smallest, ours: Double(bytes) / 1e9 / ourSeconds.smallest))
        }
        return BenchFigure(
            id: "population", name: "pre-populate \(bytes >> 20) MiB", floorKind: "memcpy", unit: "GB/s",
            rounds: results, target: .atLeast(0.8), judged: true)
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
        let qemuArguments = [
            "-enable-kvm", "-bios", rom, "-display", "none", "-nodefaults", "-no-reboot",
            "-debugcon", "file:/dev/null", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ]
        var results: [BenchFigure.Round] = []
        for round in 0..<rounds {
            let (qemuSeconds, ourSeconds) = try inTurn(
                round,
                floor: { () throws(BenchError) in
                    let run = try BenchProcess.run(qemu, qemuArguments, captureOutput: false, scratch: scratch)
                    // isa-debug-exit makes the status (code << 1) | 1: hello's 0 is 1.
                    guard run.status == 1 else { throw .runner("QEMU ended with status \(run.status) instead of 1: \(run.errorOutput)") }
                    return run.seconds
                },
                ours: { () throws(BenchError) in
                    let run = try BenchProcess.run(enlighten, ["run", hello.files.elf], captureOutput: false, scratch: scratch)
                    guard run.status == 0 else { throw .runner("enlighten run \(hello.files.elf) ended with status \(run.status): \(run.errorOutput)") }
                    return run.seconds
                })
            results.append(BenchFigure.Round(floor: qemuSeconds, ours: ourSeconds))
        }
        return BenchFigure(
            id: "qemu-hello", name: "run hello (firmware), whole process", floorKind: "QEMU", unit: "s",
            rounds: results, target: nil, judged: false)
    }
}
