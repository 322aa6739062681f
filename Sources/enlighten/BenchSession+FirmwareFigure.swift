import Foundation
import HostRunner

/// `enlighten run OVMF.fd --platform P --until memory-prepared`, whole process, per platform:
/// the time a firmware developer waits to see SEC's memory preparation checked (issue 19 asks
/// for a few seconds at most). No floor does this work: QEMU+KVM cannot run OVMF on this host
/// (it stops at SEC's first FWAIT, which kvm_pvm cannot emulate; docs/firmware.md), and the raw
/// floor has no platform model, so the figure is our time alone, reported, never judged.
extension BenchSession {
    /// The platforms measured, in the order measured, with their `bench --only` ids.
    static let firmwarePlatforms: [(id: String, platform: ConversionPlatform)] = [
        ("ovmf-kvm", .kvm), ("ovmf-ghcb", .sevSNP), ("ovmf-tdx", .tdx),
    ]
    /// Rounds per platform, at most: a ghcb or tdx run takes a second or two here, so the
    /// session's default rounds would add half a minute to `bench` for a figure it only shows.
    static let firmwareRounds = 3

    /// Where the firmware is: ENLIGHTEN_OVMF, else Debian's ovmf package's path.
    static var ovmfPath: String {
        ProcessInfo.processInfo.environment["ENLIGHTEN_OVMF"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/share/ovmf/OVMF.fd"
    }

    /// One figure per wanted platform; a missing OVMF, or a run that does not pass, is
    /// reported as skipped with why (none of these figures decides the verdict).
    func firmwareFigures(wanted: (String) -> Bool) -> [BenchFigure] {
        let platforms = Self.firmwarePlatforms.filter { wanted($0.id) }
        guard !platforms.isEmpty else { return [] }
        let firmware = Self.ovmfPath
        guard FileManager.default.isReadableFile(atPath: firmware) else {
            for (id, _) in platforms { skip(id, because: "no OVMF at \(firmware): install Debian's ovmf package or set ENLIGHTEN_OVMF") }
            return []
        }
        guard let enlighten = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            for (id, _) in platforms { skip(id, because: "cannot tell where this enlighten executable is (/proc/self/exe)") }
            return []
        }
        var figures: [BenchFigure] = []
        for (id, platform) in platforms {
            progress("OVMF to memory-prepared, --platform \(platform.rawValue)")
            let arguments = ["run", firmware, "--platform", platform.rawValue, "--until", FirmwareMilestone.memoryPrepared.rawValue]
            var seconds: [Double] = []
            do {
                for _ in 0..<min(rounds, Self.firmwareRounds) {
                    let run = try BenchProcess.run(enlighten, arguments, captureOutput: false, scratch: scratch)
                    guard run.status == 0 else {
                        throw BenchError.runner("enlighten \(arguments.joined(separator: " ")) ended with status \(run.status): \(run.errorOutput)")
                    }
                    seconds.append(run.seconds)
                }
            } catch {
                skip(id, because: "\(error)")
                continue
            }
            figures.append(
                BenchFigure(
                    id: id, name: "OVMF to memory-prepared (\(platform.rawValue)), whole process", unit: "s", reportedOnly: seconds,
                    why: "no floor does this work"))
        }
        return figures
    }
}
