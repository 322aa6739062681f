import GuestPhysical
import HostRunner

/// The guest's half of a conversion with private memory enforced, against a floor doing the
/// same work (docs/benchmarks.md).
extension BenchSession {
    /// One `ValidatedFigure` per round trip: the runner's exit loop on the figure's stub (every
    /// request also closes and opens the page's views) against its enlighten-floor mode on the
    /// same image, trapping the same sites: the same breakpoint exits, the same
    /// PUNCH_HOLE/MADV_REMOVE and the same two mprotects a request, and nothing else. Both
    /// sides must have served the same conversions and validations, all of them successfully.
    func validatedFigure(_ figure: ValidatedFigure) throws(BenchError) -> BenchFigure {
        let (built, sites, options) = try trappedStub(figure.stub, platform: figure.platform)
        let stub = built.files.elf
        var results: [BenchFigure.Round] = []
        for round in 0..<rounds {
            let (line, run) = try inTurn(
                round,
                floor: { () throws(BenchError) -> FloorFigure in
                    try floor.measure([figure.floorMode, stub, hex(built.image.pageTableRoot), sites, "--repeat", "1"])
                },
                ours: { () throws(BenchError) -> RunnerBench.LoopRun in
                    do { return try RunnerBench.exitLoop(built.image, options: options, system: system, probe: probe) } catch {
                        throw .runner("\(figure.id): \(error)")
                    }
                })
            if let failure = run.failure { throw .runner("\(figure.id): \(failure)") }
            guard run.failedRequests == 0, run.failedValidations == 0 else {
                throw .runner("\(figure.id): \(run.failedRequests) requests were not converted, \(run.failedValidations) validations did not succeed")
            }
            let trips = try Self.roundTrips(figure, floor: line, ours: run)
            results.append(
                BenchFigure.Round(
                    floor: Double(line.medianNs) / 1e3 / Double(trips),
                    ours: run.duration.seconds * 1e6 / Double(trips)))
        }
        return BenchFigure(
            id: figure.id, name: figure.name, floorKind: "raw \(figure.floorMode)", unit: "µs",
            rounds: results, target: .atMost(figure.target), judged: figure.judged)
    }

    /// The round trips both sides made, when they did the same work: whole round trips of
    /// conversions and validations, as many on the floor as in the runner.
    static func roundTrips(_ figure: ValidatedFigure, floor: FloorFigure, ours: RunnerBench.LoopRun) throws(BenchError) -> Int {
        guard let conversions = floor.conversions, let validations = floor.validations else {
            throw .floorFailed("enlighten-floor \(figure.floorMode) did not count its conversions and validations")
        }
        let sides = [("on the floor", conversions, validations), ("in the runner", ours.requests, ours.validations)]
        var trips: [Int] = []
        for (side, conversions, validations) in sides {
            guard conversions % figure.conversionsPerTrip == 0, validations % figure.validationsPerTrip == 0,
                conversions / figure.conversionsPerTrip == validations / figure.validationsPerTrip
            else {
                throw .mismatch(
                    "\(figure.id) served \(conversions) conversions and \(validations) validations \(side), not \(figure.conversionsPerTrip) and \(figure.validationsPerTrip) a round trip"
                )
            }
            trips.append(conversions / figure.conversionsPerTrip)
        }
        guard trips[0] == trips[1], trips[0] > 0 else {
            throw .mismatch("\(figure.id) made \(trips[0]) round trips on the floor and \(trips[1]) in the runner")
        }
        return trips[0]
    }
}
