import HostRunner

/// A figure timed per exit, or per conversion request, of a guest loop run by the runner,
/// against the floor's cost of one port-I/O exit (Benchmarks/Floor `exits` on the
/// bench-exits image, measured in the same round). Adding a figure is adding a row: a stub
/// under Benchmarks/Stubs that repeats its work in a loop, the platform the guest is told
/// it runs on, what one unit is, and the target (docs/benchmarks.md).
struct LoopFigure {
    enum Unit {
        /// Every KVM_RUN return; the floor must run this very image and count the same.
        case exit
        /// Every conversion request the runner served or rejected, whatever it took in exits.
        case request
    }

    let id: String
    let name: String
    /// The stub's path below the project root, built in the direct64 layout.
    let stub: String
    let platform: ConversionPlatform?
    let per: Unit
    /// The most ours may cost, as a multiple of the floor's port-I/O exit.
    let target: Double

    /// The per-exit figure (issue 3): the same image on both sides, 0x80 writes in a loop.
    static let portExit = LoopFigure(
        id: "exit", name: "exit loop, per exit", stub: "Benchmarks/Stubs/bench-exits.asm",
        platform: nil, per: .exit, target: 1.15)

    static let all: [LoopFigure] = [portExit]
}
