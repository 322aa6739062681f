import GuestPhysical
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
        guard kinds.first == .normal, pages.first?.source == .image else {
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
        proves:
            "an SNP launch of a firmware image fills the CPUID page (the snp_cpuid_table of exactly the CPUID the vCPU returns), the secrets page (version, FMS, VMPCKs) and the SNP_SEC_MEM and kernel-hash pages before the first instruction, and the guest's Linux-style check of every CPUID entry, the count and the reserved fields passes",
        failureMeans:
            "the runner left a launch page out, filled it in the wrong format or at the wrong place, or its CPUID table differs from what the vCPU sees",
        platforms: [.sevSNP], layout: .firmware,
        expectations: { _ in
            [
                .guestPasses, .conversions([]), launchPagesArePopulated,
                .check("cpuid.count.valid", equals: 1), .check("cpuid.header.reserved", equals: 0),
                .check("cpuid.entries.reserved", equals: 0),
                .check("secrets.version.known", equals: 1), .check("secrets.flags", equals: 0),
                .check("secrets.vmpck0.present", equals: 1),
            ]
        })

    /// The leaf whose CPUID-page entry the negative twin corrupts (EBX of leaf 0, the vendor).
    static let corruptedCPUIDLeaf: UInt32 = 0

    /// The twin passes only when the guest fails for the planted reason: exactly one entry
    /// mismatches, and it is EBX of the corrupted leaf.
    static let guestNamesTheCorruptedEntry = Expectation.custom("corrupted CPUID entry detected") { result in
        if result.passed { return "the guest accepted a CPUID page whose leaf \(hex(corruptedCPUIDLeaf)) EBX was corrupted" }
        let values = Dictionary(
            result.events.compactMap { event -> (String, UInt64)? in
                guard case .record(_, .value(let name, let value)) = event else { return nil }
                return (name, value)
            }, uniquingKeysWith: { first, _ in first })
        guard values["cpuid.mismatch"] == UInt64(corruptedCPUIDLeaf) << 32, values["cpuid.mismatch.register"] == 1 else {
            return
                "the guest did not name leaf \(hex(corruptedCPUIDLeaf)).0 EBX as the mismatch (cpuid.mismatch \(values["cpuid.mismatch"].map { hex($0) } ?? "none"), register \(values["cpuid.mismatch.register"].map { hex($0) } ?? "none"))"
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
        name: "snp-launch-bad-cpuid",
        stub: "snp-launch-pages",
        proves:
            "the guest's CPUID-page check catches a table that differs from the CPUID instruction: with one entry corrupted (leaf 0 EBX) the guest fails and names exactly that entry and register",
        failureMeans: "the guest's CPUID-page check misses a wrong entry, or blames the wrong one",
        platforms: [.sevSNP], layout: .firmware,
        configure: { options, _ in options.launchFault = .cpuidEntryCorrupted(leaf: corruptedCPUIDLeaf) },
        expectations: { _ in [.conversions([]), launchPagesArePopulated, guestNamesTheCorruptedEntry] })
}

// The TD HOB: GuestStubs/scenarios/tdx-td-hob.asm.
extension Catalogue {
    /// The runner wrote a TD HOB at the TD_HOB section, and the guest's walk described all RAM.
    static let tdHobWritten = Expectation.custom("TD HOB") { result in
        guard let hob = result.population.launchPages.first(where: { $0.kind == .tdHob }) else {
            return "the runner wrote no TD HOB (launch pages: \(result.population.launchPages.map(\.kind.rawValue)))"
        }
        if hob.range != FirmwareTables.defaultTDHob { return "the TD HOB is at \(hob.range), the TD_HOB section is \(FirmwareTables.defaultTDHob)" }
        return nil
    }

    static let tdxTDHob = Scenario(
        name: "tdx-td-hob",
        proves:
            "a TDX launch of a firmware image writes the TD HOB at the TD_HOB section as QEMU does for TDVF (PHIT, one resource descriptor per RAM range: the added TD_HOB and TEMP_MEM ranges SYSTEM_MEMORY, the rest MEMORY_UNACCEPTED, end of list), and the guest's TDVF-style walk finds it well formed and describing all of its RAM, then accepts a page the HOB calls unaccepted before using it",
        failureMeans: "the HOB is missing, misplaced or malformed, or it does not describe the RAM the TD was given",
        platforms: [.tdx], layout: .firmware,
        expectations: { _ in
            [
                .guestPasses, .conversions([]), tdHobWritten,
                .value("tdhob.ram_end", equals: RunOptions().memory),
                .check("tdhob.end_of_list", equals: 1), .check("tdhob.rom_overlaps", equals: 0),
                .check("tdhob.accept", equals: 0), .check("tdhob.accepted.readback", equals: 0),
            ]
        })

    /// The twin passes only when the guest fails for the planted reason: one resource
    /// descriptor claims the ROM's first 64 KiB as RAM, and the guest names exactly it.
    static let guestNamesTheROMOverlap = Expectation.custom("HOB over ROM detected") { result in
        if result.passed { return "the guest accepted a TD HOB that describes its ROM as RAM" }
        let overlap = result.events.compactMap { event -> UInt64? in
            guard case .record(_, .value("tdhob.rom_overlap", let value)) = event else { return nil }
            return value
        }.first
        let romBase = Layout.romWindow.start
        guard overlap == romBase else {
            return "the guest did not name the descriptor at \(hex(romBase)) (tdhob.rom_overlap \(overlap.map { hex($0) } ?? "none"))"
        }
        let failed = result.events.compactMap { event -> String? in
            guard case .record(_, .check(let name, _, _, false)) = event else { return nil }
            return name
        }
        guard failed == ["tdhob.rom_overlaps"] else { return "the guest failed \(failed), expected only tdhob.rom_overlaps" }
        return nil
    }

    static let tdxTDHobOverROM = Scenario(
        name: "tdx-td-hob-over-rom",
        stub: "tdx-td-hob",
        proves: "the guest's TD HOB walk catches a resource descriptor that overlaps its ROM: it fails naming exactly that descriptor",
        failureMeans: "the guest's HOB check accepts RAM claimed over the firmware, or blames the wrong descriptor",
        platforms: [.tdx], layout: .firmware,
        configure: { options, _ in options.launchFault = .tdHobResourceOverROM },
        expectations: { _ in [.conversions([]), tdHobWritten, guestNamesTheROMOverlap] })
}
