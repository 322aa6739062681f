import HostRunner
import Payload

/// The guest's half of a conversion with private memory enforced, against a floor doing the
/// same work (docs/benchmarks.md).
extension BenchSession {
    static let acceptedRoundTripID = "accept-tdx"
    /// TDCALLs per accepted round trip in bench-accept-tdx.asm: MapGPA shared, MapGPA private,
    /// TDG.MEM.PAGE.ACCEPT; the floor also serves the stub's one TDG.VP.INFO.
    static let tdcallsPerRoundTrip = 3
    static let conversionsPerRoundTrip = 2

    /// One TDX page made shared, private and accepted again, with the runner enforcing private
    /// memory (each request also closes and opens the page's views), per round trip, against
    /// enlighten-floor `trap-tdx`: the same breakpoint exits, the same PUNCH_HOLE/MADV_REMOVE
    /// and the same two mprotects a request, and nothing else.
    func acceptedRoundTripFigure() throws(BenchError) -> BenchFigure {
        let built = try build("Benchmarks/Stubs/bench-accept-tdx.asm", layout: .direct64)
        guard let site = built.image.sites.first?.address else { throw .runner("bench-accept-tdx has no request site") }
        var options = RunOptions()
        options.platform = .tdx
        options.timeout = 60
        var results: [BenchFigure.Round] = []
        for round in 0..<rounds {
            let (line, run) = try inTurn(round, floor: { () throws(BenchError) -> FloorFigure in
                try floor.measure(["trap-tdx", built.files.elf, hex(built.image.pageTableRoot), hex(site), "--repeat", "1"])
            }, ours: { () throws(BenchError) -> RunnerBench.LoopRun in
                do { return try RunnerBench.exitLoop(built.image, options: options, system: system, probe: probe) } catch { throw .runner("bench-accept-tdx: \(error)") }
            })
            if let failure = run.failure { throw .runner("bench-accept-tdx: \(failure)") }
            guard run.failedRequests == 0 else { throw .runner("bench-accept-tdx: \(run.failedRequests) requests were not converted") }
            guard let served = line.requests, (served - 1) % Self.tdcallsPerRoundTrip == 0 else {
                throw .floorFailed("the floor served \(line.requests ?? 0) TDCALLs, not 1 + 3 a round trip")
            }
            let floorTrips = (served - 1) / Self.tdcallsPerRoundTrip, ourTrips = run.requests / Self.conversionsPerRoundTrip
            guard floorTrips == ourTrips, floorTrips > 0 else {
                throw .mismatch("bench-accept-tdx made \(floorTrips) round trips on the floor and \(ourTrips) in the runner")
            }
            results.append(BenchFigure.Round(floor: Double(line.medianNs) / 1e3 / Double(floorTrips),
                                             ours: run.duration.seconds * 1e6 / Double(ourTrips)))
        }
        return BenchFigure(id: Self.acceptedRoundTripID, name: "TDX MapGPA + ACCEPT round trip, enforced (trap, same work)",
                           floorKind: "raw trap-tdx", unit: "µs", rounds: results, target: .atMost(1.25), judged: false)
    }
}
