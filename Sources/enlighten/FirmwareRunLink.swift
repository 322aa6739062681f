import GuestPhysical
import HostRunner
import Measurement
import Payload

/// For a firmware-layout run: the population a VMM would derive from the image's own tables
/// (what `enlighten inspect` prints), checked against what the runner populated from the
/// plan, and the launch digests of those bytes.
struct FirmwareRunLink: Encodable {
    /// One SNP launch page the runner filled, in order.
    struct LaunchItem: Encodable { let type: String, start: String, end: String, source: String }

    let populationAgrees: Bool
    let disagreement: String?
    let steps: [FirmwarePopulationStep]
    let snpLaunchDigest: String?
    let mrtd: String?
    /// SNP launches: the pages the runner filled, and the launch digest computed from their
    /// bytes as read back from guest memory, in that order, then the VMSAs QEMU adds for this
    /// run's vCPUs (EPYC-v4, features 0x1); it must equal `snpLaunchDigest`, inspect's.
    let launchPages: [LaunchItem]
    let snpLaunchDigestFromPopulation: String?
    let snpDigestsAgree: Bool?
    /// TD launches: MRTD of the TDVF sections the runner added, at the GPAs it added them, the
    /// extended ones with the bytes it copied there from its image (found by GPA, where
    /// inspect reads the file at each section's DataOffset), in the metadata's order,
    /// interleaved as KVM_TDX_INIT_MEM_REGION adds and extends; it must equal `mrtd`, inspect's.
    let mrtdFromPopulation: String?
    let mrtdsAgree: Bool?

    init?(_ result: RunResult, kernelHashes: SEVKernelHashes? = nil) {
        guard let rom = result.image.romBytes() else { return nil }
        let firmware = FirmwareImage(bytes: rom)
        steps = FirmwarePopulation.snp(firmware) + FirmwarePopulation.tdx(firmware)
        // The runner wrote the plan's measured/unmeasured ranges; the tables must name exactly
        // those GPAs for the image bytes (SEV-SNP: the whole ROM; TDX: BFV/CFV sections).
        let populated = Self.union(result.population.entries.filter { $0.bytesWritten > 0 }.map(\.range.range))
        let fromTables = Self.union(
            steps.filter { $0.platform == .tdx && $0.how.contains("image bytes") }
                .map { GPARange(start: $0.gpa, end: $0.gpa + $0.size) })
        populationAgrees = populated == fromTables
        disagreement =
            populationAgrees
            ? nil
            : "the runner populated \(populated.map(\.description).joined(separator: " ")), the TDVF tables name \(fromTables.map(\.description).joined(separator: " "))"
        let signature = VCPUSignature.named("EPYC-v4") ?? 0
        let options = SNPOptions(vcpus: result.vcpus, vcpuSignature: signature, kernelHashes: kernelHashes)
        snpLaunchDigest = try? DigestFormat.hex.render(SNPMeasurement.launchDigest(of: firmware, options: options))
        mrtd = try? DigestFormat.hex.render(TDXMeasurement.mrtd(of: firmware, order: .interleaved))

        launchPages = result.population.launchPages.map {
            LaunchItem(type: $0.kind.rawValue, start: hex($0.range.start), end: hex($0.range.end), source: $0.source.description)
        }
        if result.platform == .tdx, let metadata = firmware.tdxMetadata {
            let populated = Self.mrtd(of: metadata.sections, as: result)
            mrtdFromPopulation = populated
            mrtdsAgree = populated != nil && populated == mrtd
        } else {
            mrtdFromPopulation = nil
            mrtdsAgree = nil
        }
        let pages = result.population.launchPages.filter { $0.kind != .tdHob && $0.kind != .tdTempMem }
        if pages.isEmpty {
            snpLaunchDigestFromPopulation = nil
            snpDigestsAgree = nil
        } else {
            let populated = Self.digest(of: pages, firmware: firmware, options: options)
            snpLaunchDigestFromPopulation = populated
            snpDigestsAgree = populated != nil && populated == snpLaunchDigest
        }
    }

    /// The SNP digest of the pages as populated, then one VMSA per vCPU.
    private static func digest(of pages: [LaunchPage], firmware: FirmwareImage, options: SNPOptions) -> String? {
        var updates: [SNPLaunchUpdate] = []
        for page in pages {
            let type: SNPPageType
            switch page.kind {
            case .normal: type = .normal
            case .zero: type = .zero
            case .unmeasured: type = .unmeasured
            case .secrets: type = .secrets
            case .cpuid: type = .cpuid
            case .vmsa: type = .vmsa
            case .tdHob, .tdTempMem: return nil
            }
            let contents: SNPLaunchUpdate.Contents = type == .normal ? page.contents.map { .bytes($0) } ?? .none : .none
            updates.append(SNPLaunchUpdate(type: type, gpa: page.range.start, size: page.range.size, contents: contents, source: page.source.description))
        }
        let vmsas = SEVVMSA.pages(
            vcpus: options.vcpus, apEIP: firmware.sevESResetBlock?.rawValue, sevFeatures: options.guestFeatures,
            vcpuSignature: options.vcpuSignature, vmm: options.vmm)
        for page in vmsas {
            updates.append(SNPLaunchUpdate(type: .vmsa, gpa: SNPLaunchDigest.vmsaGPA, size: UInt64(page.count), contents: .bytes(page), source: "VMSA"))
        }
        let digest = try? SNPMeasurement.digest(
            of: updates, image: firmware,
            options: SNPOptions(vcpus: options.vcpus, vcpuSignature: options.vcpuSignature))
        return digest.map { DigestFormat.hex.render($0) }
    }

    /// MRTD of the sections `result`'s launch added: TD_HOB and TEMP_MEM as the runner's launch
    /// pages, the others as the ranges its population covered; a section it did not add is
    /// left out (and the digest then differs from inspect's).
    private static func mrtd(of sections: [TDXSection], as result: RunResult) -> String? {
        let launched = result.population.launchPages
        let covered = union(
            result.population.entries.filter { $0.range.state != .shared }.map(\.range.range)
                + launched.filter { $0.kind == .tdTempMem }.map(\.range))
        var added: [TDXSection] = []
        var extended: [UInt8] = []
        for section in sections where !section.attributes.contains(.pageAug) {
            let range = GPARange(start: section.memoryAddress, end: section.memoryAddress &+ section.memorySize)
            let wasAdded =
                section.type == .tdHob
                ? launched.contains { $0.kind == .tdHob && $0.range == range }
                : covered.contains { $0.contains(range) }
            guard wasAdded, range.size <= UInt64(UInt32.max) else { continue }
            let offset = extended.count
            if section.attributes.contains(.mrExtend) { extended += result.image.contents(of: range) }
            added.append(
                TDXSection(
                    dataOffset: UInt32(offset), rawSize: section.attributes.contains(.mrExtend) ? UInt32(range.size) : 0,
                    memoryAddress: range.start, memorySize: range.size, type: section.type, attributes: section.attributes))
        }
        return (try? TDXMeasurement.mrtd(sections: added, image: extended, order: .interleaved)).map { DigestFormat.hex.render($0) }
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
