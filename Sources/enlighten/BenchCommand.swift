import ArgumentParser
import Foundation
import HostRunner

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the runner against a raw-ioctl floor, side by side, as ratios.",
        discussion: """
            Runs the Swift runner and Benchmarks/Floor (a small C program doing the same work \
            with bare ioctls) on the same work in this one run, both sides back to back in \
            each round, and prints each side's median, the median of the rounds' ratios \
            ours/floor, and the target that ratio must meet: VM ready to run (≤ 1.5×), the \
            exit loop per exit (≤ 1.15×), pre-populating 64 MiB into guest RAM (≥ 0.8× \
            memcpy bandwidth). Both sides keep guest RAM in the same backing: guest_memfd \
            where a default VM can have it, else a memfd (--backing memfd forces that). Also shown, not judged: one trapped conversion request per \
            interface against a port-I/O exit (target 1.3×; docs/benchmarks.md says why this host cannot meet it), \
            the TDX and SEV-SNP round trips through both halves of a conversion with private \
            memory enforced against a floor doing the same exits and memory-protection \
            changes (accept-tdx, validate-ghcb; target 1.25×), and, when QEMU is installed, \
            `enlighten run` of the firmware-layout hello against QEMU booting it (whole \
            process), and `enlighten run OVMF.fd --platform kvm/ghcb/tdx --until \
            memory-prepared` (whole process, reported alone: no floor does that work; \
            ENLIGHTEN_OVMF or /usr/share/ovmf/OVMF.fd). docs/benchmarks.md describes each figure.

            The floor is the enlighten-floor SwiftPM built next to this executable if it is \
            up to date, else it is compiled from Benchmarks/Floor with the host's C compiler.

            Exit codes: 0 every judged target met, 1 a target missed or a side failed, 2 usage, \
            3 no usable /dev/kvm (or no tool to build the guests or the floor).

            Examples:
              swift run -c release enlighten bench
              enlighten bench --repeat 11 --json
            """)

    @Option(
        name: .customLong("repeat"), help: "Rounds per figure (each side's figure is the median of its rounds, the ratio the median of the rounds' ratios).")
    var rounds = 9

    @Option(
        help: ArgumentHelp("Measure only this figure (repeatable).", discussion: "One of: \(BenchSession.figureIDs.joined(separator: ", ")).", valueName: "id"))
    var only: [String] = []

    @OptionGroup(title: "Host") var host: HostOptions

    @Flag(help: "Print the figures as JSON.")
    var json = false

    func run() throws {
        guard (1...101).contains(rounds) else { throw fail("--repeat must be between 1 and 101", .inputError) }
        if let unknown = only.first(where: { !BenchSession.figureIDs.contains($0) }) {
            throw fail("--only: no figure '\(unknown)' (known: \(BenchSession.figureIDs.joined(separator: ", ")))", .inputError)
        }
        let handle: KVMSystemHandle
        do { handle = try KVMSystemHandle.open(host) } catch let error as RunError { throw fail(error, .hostUnavailable) }
        let report: BenchReport
        do {
            let progress: (String) -> Void = { [json] step in
                if !json { FileHandle.standardError.write(Data("· \(step)\n".utf8)) }
            }
            report = try BenchSession(rounds: rounds, host: (handle.probe, handle.backing), system: handle.system, progress: progress)
                .run(only: Set(only))
        } catch {
            throw fail(error, error.outcome)
        }
        if json {
            try printJSON(report)
        } else {
            report.printHuman()
        }
        if !report.passed { throw Outcome.checkFailed.exitCode }
    }
}
