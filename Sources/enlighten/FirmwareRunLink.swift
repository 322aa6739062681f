import HostRunner
import Measurement
import Payload

/// For a firmware-layout run: the population a VMM would derive from the image's own tables
/// (what `enlighten inspect` prints), checked against what the runner populated from the
/// plan, and the launch digests of those bytes.
struct FirmwareRunLink: Encodable {
    let populationAgrees: Bool
    let disagreement: String?
    let steps: [FirmwarePopulationStep]
    let snpLaunchDigest: String?
    let mrtd: String?

    init?(_ result: RunResult) {
        guard let rom = result.image.romBytes() else { return nil }
        let firmware = FirmwareImage(bytes: rom)
        steps = FirmwarePopulation.snp(firmware) + FirmwarePopulation.tdx(firmware)
        // The runner wrote the plan's measured/unmeasured ranges; the tables must name exactly
        // those GPAs for the image bytes (SEV-SNP: the whole ROM; TDX: BFV/CFV sections).
        let populated = Self.union(result.population.entries.filter { $0.bytesWritten > 0 }.map(\.range.range))
        let fromTables = Self.union(steps.filter { $0.platform == .tdx && $0.how.contains("image bytes") }
            .map { GPARange(start: $0.gpa, end: $0.gpa + $0.size) })
        populationAgrees = populated == fromTables
        disagreement = populationAgrees ? nil
            : "the runner populated \(populated.map(\.description).joined(separator: " ")), the TDVF tables name \(fromTables.map(\.description).joined(separator: " "))"
        let signature = VCPUSignature.named("EPYC-v4") ?? 0
        snpLaunchDigest = try? SNPMeasurement.launchDigest(of: firmware, options: SNPOptions(vcpus: result.vcpus, vcpuSignature: signature))
            .map { String(format: "%02x", $0) }.joined()
        mrtd = try? TDXMeasurement.mrtd(of: firmware, order: .interleaved).map { String(format: "%02x", $0) }.joined()
    }

    private static func union(_ ranges: [GPARange]) -> [GPARange] {
        ranges.sorted { $0.start < $1.start }.reduce(into: [GPARange]()) { merged, range in
            if let last = merged.last, last.end >= range.start {
                merged[merged.count - 1] = GPARange(start: last.start, end: max(last.end, range.end))
            } else {
                merged.append(range)
            }
        }
    }
}
