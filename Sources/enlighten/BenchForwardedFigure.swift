import GuestPhysical
import HostRunner

/// A figure timed per port access a guest forwards through its platform's protocol (a GHCB
/// IOIO NAE event, a TDVMCALL Instruction.IO), as a #VC / #VE handler does for an `out`,
/// against the floor mode that traps the same request site and answers the same event with
/// raw ioctls: the same breakpoint exit a request, the GHCB or registers answered as KVM
/// leaves them, and nothing else (docs/benchmarks.md). Both sides must count the same
/// forwarded accesses.
struct ForwardedFigure {
    let id: String
    let name: String
    let stub: String
    let platform: ConversionPlatform
    /// The enlighten-floor mode (Benchmarks/Floor: trap-snp.c, trap-tdx.c).
    let floorMode: String
    /// The most ours may cost per access, as a multiple of the floor's.
    let target: Double
    let judged: Bool

    static let all: [ForwardedFigure] = [
        ForwardedFigure(
            id: "nae-ioio", name: "GHCB IOIO NAE event, 1-byte OUT (trap, same exits)",
            stub: "Benchmarks/Stubs/bench-nae-ioio.asm", platform: .sevSNP, floorMode: "trap-snp", target: 1.3, judged: false),
        ForwardedFigure(
            id: "tdvmcall-io", name: "TDVMCALL Instruction.IO, 1-byte OUT (trap, same exits)",
            stub: "Benchmarks/Stubs/bench-tdvmcall-io.asm", platform: .tdx, floorMode: "trap-tdx", target: 1.3, judged: false),
    ]
}

extension BenchSession {
    /// Ours per forwarded access against the floor's, both on the figure's image with its
    /// request sites trapped, timed from the first KVM_RUN to the exit code.
    func forwardedFigure(_ figure: ForwardedFigure) throws(BenchError) -> BenchFigure {
        let (built, sites, options) = try trappedStub(figure.stub, platform: figure.platform)
        var results: [BenchFigure.Round] = []
        for round in 0..<rounds {
            let (line, run) = try inTurn(
                round,
                floor: { () throws(BenchError) -> FloorFigure in
                    try floor.measure([figure.floorMode, built.files.elf, hex(built.image.pageTableRoot), sites, "--repeat", "1"])
                },
                ours: { () throws(BenchError) -> RunnerBench.LoopRun in
                    do { return try RunnerBench.exitLoop(built.image, options: options, system: system, probe: probe) } catch {
                        throw .runner("\(figure.id): \(error)")
                    }
                })
            if let failure = run.failure { throw .runner("\(figure.id): \(failure)") }
            guard let forwarded = line.forwarded, forwarded > 0 else {
                throw .floorFailed("enlighten-floor \(figure.floorMode) counted no forwarded port access")
            }
            guard run.forwarded == forwarded else {
                throw .mismatch("\(figure.id) forwarded \(forwarded) port accesses on the floor and \(run.forwarded) in the runner")
            }
            results.append(
                BenchFigure.Round(
                    floor: Double(line.medianNs) / 1e3 / Double(forwarded),
                    ours: run.duration.seconds * 1e6 / Double(forwarded)))
        }
        return BenchFigure(
            id: figure.id, name: figure.name, floorKind: "raw \(figure.floorMode)", unit: "µs",
            rounds: results, target: .atMost(figure.target), judged: figure.judged)
    }
}
