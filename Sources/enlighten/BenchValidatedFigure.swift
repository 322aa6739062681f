import HostRunner

/// A figure timed per round trip of a page through both halves of a conversion — the host's
/// (the conversion requests) and the guest's (validation or acceptance) — with the runner
/// enforcing private memory, against a floor mode that serves the same image with the same
/// kernel work (docs/benchmarks.md). Adding one is adding a row: a stub under
/// Benchmarks/Stubs that repeats one round trip, the platform it runs as, the floor mode, and
/// how many of each request a round trip makes.
struct ValidatedFigure {
    let id: String
    let name: String
    let stub: String
    let platform: ConversionPlatform
    /// The enlighten-floor mode (Benchmarks/Floor: trap-tdx.c, trap-snp.c).
    let floorMode: String
    /// Conversion requests a round trip makes (both directions).
    let conversionsPerTrip: Int
    /// Validations or acceptances a round trip makes.
    let validationsPerTrip: Int
    /// The most ours may cost per round trip, as a multiple of the floor's.
    let target: Double
    /// Whether a miss fails `bench` (exit 1), or the ratio is only shown against its target.
    let judged: Bool

    static let all: [ValidatedFigure] = [
        // MapGPA shared, MapGPA private, TDG.MEM.PAGE.ACCEPT, then a read that must not exit.
        ValidatedFigure(
            id: "accept-tdx", name: "TDX MapGPA + ACCEPT round trip, enforced (trap, same work)",
            stub: "Benchmarks/Stubs/bench-accept-tdx.asm", platform: .tdx, floorMode: "trap-tdx",
            conversionsPerTrip: 2, validationsPerTrip: 1, target: 1.25, judged: false),
        // PVALIDATE rescind, PSC shared, PSC private, PVALIDATE validate, then a C=1 read.
        ValidatedFigure(
            id: "validate-ghcb", name: "SNP PVALIDATE + PSC round trip, enforced (trap, same work)",
            stub: "Benchmarks/Stubs/bench-validate-ghcb.asm", platform: .sevSNP, floorMode: "trap-snp",
            conversionsPerTrip: 2, validationsPerTrip: 2, target: 1.25, judged: false),
    ]
}
