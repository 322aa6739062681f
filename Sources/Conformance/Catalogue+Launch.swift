import HostRunner
import Payload

// The special pages of a confidential launch: GuestStubs/scenarios/snp-launch-pages.asm.
extension Catalogue {
    /// The SNP launch pages the runner fills, in order, for our firmware images' SEV metadata
    /// (FirmwareTables.LaunchPages): the ROM, SNP_SEC_MEM, the secrets and CPUID pages, and
    /// the kernel-hashes page (zero without a kernel).
    static let launchPagesArePopulated = Expectation.custom("launch pages") { result in
        let pages = result.population.launchPages
        let kinds = pages.map(\.kind)
        guard kinds.first == .normal, pages.first?.source == "image" else {
            return "the runner populated no SNP launch (pages: \(kinds.map(\.rawValue)))"
        }
        let wanted: [(LaunchPage.Kind, GPARange)] = [
            (.secrets, FirmwareTables.LaunchPages.secrets), (.cpuid, FirmwareTables.LaunchPages.cpuid),
            (.zero, FirmwareTables.LaunchPages.kernelHashes),
        ]
        for (kind, range) in wanted where !pages.contains(where: { $0.kind == kind && $0.range == range }) {
            return "no \(kind.rawValue) launch page at \(range) (populated: \(pages.map { "\($0.kind.rawValue) \($0.range)" }.joined(separator: ", ")))"
        }
        return nil
    }

    static let snpLaunchPages = Scenario(
        name: "snp-launch-pages",
        proves: "an SNP launch of a firmware image fills the CPUID page (the snp_cpuid_table of exactly the CPUID the vCPU returns), the secrets page (version, FMS, VMPCKs) and the SNP_SEC_MEM and kernel-hash pages before the first instruction, and the guest's Linux-style check of every CPUID entry, the count and the reserved fields passes",
        failureMeans: "the runner left a launch page out, filled it in the wrong format or at the wrong place, or its CPUID table differs from what the vCPU sees",
        platforms: [.ghcb], layout: .firmware,
        expectations: { _ in [
            .guestPasses, .conversions([]), launchPagesArePopulated,
            .check("cpuid.count.valid", equals: 1), .check("cpuid.header.reserved", equals: 0),
            .check("cpuid.entries.reserved", equals: 0),
            .check("secrets.version.known", equals: 1), .check("secrets.flags", equals: 0),
            .check("secrets.vmpck0.present", equals: 1),
        ] })

    /// The leaf whose CPUID-page entry the negative twin corrupts (EBX of leaf 0, the vendor).
    static let corruptedCPUIDLeaf: UInt32 = 0

    /// The twin passes only when the guest fails for the planted reason: exactly one entry
    /// mismatches, and it is EBX of the corrupted leaf.
    static let guestNamesTheCorruptedEntry = Expectation.custom("corrupted CPUID entry detected") { result in
        if result.passed { return "the guest accepted a CPUID page whose leaf \(hex(corruptedCPUIDLeaf)) EBX was corrupted" }
        let values = Dictionary(result.events.compactMap { event -> (String, UInt64)? in
            guard case .record(_, .value(let name, let value)) = event else { return nil }
            return (name, value)
        }, uniquingKeysWith: { first, _ in first })
        guard values["cpuid.mismatch"] == UInt64(corruptedCPUIDLeaf) << 32, values["cpuid.mismatch.register"] == 1 else {
            return "the guest did not name leaf \(hex(corruptedCPUIDLeaf)).0 EBX as the mismatch (cpuid.mismatch \(values["cpuid.mismatch"].map { hex($0) } ?? "none"), register \(values["cpuid.mismatch.register"].map { hex($0) } ?? "none"))"
        }
        let count = values["cpuid.count"] ?? 0
        let matched = result.events.compactMap { event -> UInt64? in
            guard case .record(_, .check("cpuid.entries.match", let actual, _, _)) = event else { return nil }
            return actual
        }.first
        guard matched == count - 1 else {
            return "cpuid.entries.match is \(matched.map { hex($0) } ?? "missing"); exactly one of \(count) entries should mismatch"
        }
        return nil
    }

    static let snpLaunchPagesCorruptCPUID = Scenario(
        name: "snp-launch-pages-bad-cpuid",
        stub: "snp-launch-pages",
        proves: "the guest's CPUID-page check catches a table that differs from the CPUID instruction: with one entry corrupted (leaf 0 EBX) the guest fails and names exactly that entry and register",
        failureMeans: "the guest's CPUID-page check misses a wrong entry, or blames the wrong one",
        platforms: [.ghcb], layout: .firmware,
        configure: { options, _ in options.launchFault = .cpuidEntryCorrupted(leaf: corruptedCPUIDLeaf) },
        expectations: { _ in [.conversions([]), launchPagesArePopulated, guestNamesTheCorruptedEntry] })
}
