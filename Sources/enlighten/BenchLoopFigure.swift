import HostRunner

/// A figure timed per exit, or per conversion request, of a guest loop run by the runner,
/// against the floor's cost of one port-I/O exit (Benchmarks/Floor `exits` on the
/// bench-exits image, measured in the same round). Adding a figure is adding a row: a stub
/// under Benchmarks/Stubs that repeats its work in a tight loop, the platform the guest is
/// told it runs on, what one unit is, and the target (docs/benchmarks.md).
struct LoopFigure {
    enum Unit {
        /// Every KVM_RUN return; the floor must run this very image and count the same.
        case exit
        /// Every conversion request the runner served, whatever it took in exits; a request
        /// the host rejected fails the figure.
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
    /// Whether a miss fails `bench` (exit 1), or the ratio is only shown against its target.
    let judged: Bool
    /// Also compare with the floor serving the same image's requests itself (floor `trap`:
    /// a hardware breakpoint, sync regs, one PUNCH_HOLE a request), which separates what
    /// the runner adds from what the kernel's trap costs. Only KVM_HC_MAP_GPA_RANGE has one.
    var rawTrapFloor = false

    /// The per-exit figure: the same image on both sides, 0x80 writes in a loop.
    static let portExit = LoopFigure(
        id: "exit", name: "exit loop, per exit", stub: "Benchmarks/Stubs/bench-exits.asm",
        platform: nil, per: .exit, target: 1.15, judged: true)

    /// The interface figures: one trapped request round trip per interface against one port-I/O
    /// exit, target 1.3x. Not judged yet: on this host's kvm_pvm the hardware-breakpoint exit
    /// alone costs about 1.7x a port-I/O exit even from raw ioctls, and the GHCB MSR protocol
    /// is three exits a request off SNP hardware (docs/benchmarks.md); GHCB's second row, the
    /// Page State Change NAE event, is one. Set `judged` once the target is settled.
    static let interfaces: [LoopFigure] = [
        LoopFigure(
            id: "trap-kvm", name: "KVM_HC_MAP_GPA_RANGE request (trap)", stub: "Benchmarks/Stubs/bench-trap-kvm.asm",
            platform: .kvm, per: .request, target: 1.3, judged: false, rawTrapFloor: true),
        // The MSR protocol: WRMSR, VMGEXIT and RDMSR exits a request off SNP hardware.
        LoopFigure(
            id: "trap-ghcb", name: "GHCB MSR-protocol PSC request (trap, 3 exits)", stub: "Benchmarks/Stubs/bench-trap-ghcb.asm",
            platform: .sevSNP, per: .request, target: 1.3, judged: false),
        // The PSC NAE event over the GHCB page, one 4 KiB entry: the VMGEXIT alone (the GHCB MSR
        // keeps the GHCB's GPA between requests).
        LoopFigure(
            id: "trap-ghcb-psc", name: "GHCB PSC NAE event, 1 entry (trap, 1 exit)", stub: "Benchmarks/Stubs/bench-trap-ghcb-psc.asm",
            platform: .sevSNP, per: .request, target: 1.3, judged: false),
        LoopFigure(
            id: "trap-tdx", name: "TDVMCALL MapGPA request (trap)", stub: "Benchmarks/Stubs/bench-trap-tdx.asm",
            platform: .tdx, per: .request, target: 1.3, judged: false),
    ]

    static let all: [LoopFigure] = [portExit] + interfaces
}
