import GuestPhysical
import HostRunner

// Debian's OVMF.fd (edk2 2022.11) from reset to the end of SEC's memory preparation, and its
// negative twins (docs/firmware.md, docs/scenarios.md "Real firmware"). Every range here is
// edk2's, for this image and the suite's 64 MiB of RAM, not what the runner happened to do.
extension Catalogue {
    /// What SEC validates on SEV-SNP: PcdOvmfPeiMemFvBase up to PcdOvmfDecompressionScratchEnd
    /// (OvmfPkg/Library/BaseMemEncryptSevLib/X64/SecSnpSystemRamValidate.c; the values of
    /// OvmfPkgX64.fdf and FvmainCompactScratchEnd.fdf.inc).
    static let ovmfSNPValidated = GPARange(start: 0x82_0000, end: 0x171_0000)
    /// The memory a TDX VMM adds for this OVMF before launch (its TDVF metadata, OvmfPkgX64.fdf
    /// and ResetVector's TDX metadata): TEMP_MEM [0x800000, 0x806000), TD_HOB [0x809000,
    /// 0x80b000), TEMP_MEM [0x80b000, 0x80d000) and [0x810000, 0x820000). SEC accepts the rest of
    /// RAM below 4 GiB, which the TD HOB calls unaccepted (PlatformInitLib IntelTdx.c
    /// ProcessTdxHobList).
    static let ovmfTDXAdded = [
        GPARange(start: 0x80_0000, end: 0x80_6000), GPARange(start: 0x80_9000, end: 0x80_B000),
        GPARange(start: 0x80_B000, end: 0x80_D000), GPARange(start: 0x81_0000, end: 0x82_0000),
    ]
    /// The GHCB page SEC registers (PcdOvmfSecGhcbBase, OvmfPkgX64.fdf).
    static let ovmfGHCB: UInt64 = 0x80_9000
    /// OVMF's work area (PcdOvmfWorkAreaBase): its first byte, the guest type, is the first
    /// memory the reset vector writes (OvmfPkg/ResetVector), in SEV section 1 / TDX section 3.
    static let ovmfWorkArea: UInt64 = 0x80_B000
    /// The section each platform's omitted-section twin leaves out: the one holding the work area.
    static func ovmfOmittedSection(_ platform: ConversionPlatform) -> Int { platform == .tdx ? 3 : 1 }

    /// The 4 KiB pages the validations that changed something covered, each with its count.
    static func changedPages(_ result: RunResult) -> [UInt64: Int] {
        var pages: [UInt64: Int] = [:]
        for case .validation(_, let record) in result.events where record.changed {
            for page in stride(from: record.range.start, to: record.range.end, by: 0x1000) { pages[page, default: 0] += 1 }
        }
        return pages
    }

    static func pages(of ranges: [GPARange]) -> Set<UInt64> {
        ranges.reduce(into: Set<UInt64>()) { $0.formUnion(stride(from: $1.start, to: $1.end, by: 0x1000)) }
    }

    /// Exactly `expected` validated or accepted, each page once.
    static func validatesExactly(_ expected: Set<UInt64>, what: String) -> Expectation {
        .custom("\(what) exactly") { result in
            let changed = changedPages(result)
            let twice = changed.filter { $0.value > 1 }.keys.sorted()
            if let first = twice.first { return "\(twice.count) pages \(what) more than once, the first \(hex(first))" }
            let got = Set(changed.keys)
            if got == expected { return nil }
            let missing = expected.subtracting(got).sorted(), extra = got.subtracting(expected).sorted()
            return
                "\(got.count) pages \(what), expected \(expected.count): \(missing.count) missing (first \(missing.first.map { hex($0) } ?? "-")), \(extra.count) unexpected (first \(extra.first.map { hex($0) } ?? "-"))"
        }
    }

    static func reachesMilestones(_ milestones: [FirmwareMilestone]) -> Expectation {
        .custom("milestones") { result in
            if !result.passed { return "the run failed: \(result.failures.first ?? "no reason")" }
            return result.milestones == milestones ? nil : "milestones \(result.milestones.map(\.rawValue)), expected \(milestones.map(\.rawValue))"
        }
    }

    static let noValidations = Expectation.custom("no validations") { result in
        let count = result.events.compactMap(\.validation).count
        return count == 0 ? nil : "\(count) PVALIDATE/ACCEPT events, expected none"
    }

    static let ghcbRegisteredAtOVMFPage = Expectation.custom("GHCB registered") { result in
        let registered = result.events.compactMap { event -> UInt64? in
            if case .served(_, .sevSNP, .registerGHCB(let gpa), _) = event { gpa } else { nil }
        }
        return registered == [ovmfGHCB] ? nil : "GHCB registrations \(registered.map { hex($0) }), expected [\(hex(ovmfGHCB))]"
    }

    static let ovmfSEC = Scenario(
        name: "ovmf-sec",
        proves:
            "Debian's OVMF.fd runs from reset to the end of SEC's memory preparation (the `memory-prepared` milestone) on every platform, and validates or accepts exactly what edk2's SEC implies, each page once: on SNP [0x820000, 0x1710000) after registering its GHCB at 0x809000; on TDX all 64 MiB of RAM but the TD_HOB and TEMP_MEM sections added at launch; on kvm nothing",
        failureMeans:
            "the runner's launch (metadata sections, TD HOB, reset state), devices, request serving or platform model lets real firmware fail, or lets it validate or accept memory the platform would not",
        platforms: [.kvm, .sevSNP, .tdx], firmware: FirmwareVolumeSource(),
        configure: { options, _ in
            options.until = .memoryPrepared
            options.maxEvents = RunOptions.maximumMaxEvents
        },
        expectations: { platform in
            switch platform {
            case .kvm: [reachesMilestones([.memoryPrepared]), noValidations]
            case .sevSNP:
                [
                    reachesMilestones([.ghcbRegistered, .memoryPrepared]), ghcbRegisteredAtOVMFPage,
                    validatesExactly(pages(of: [ovmfSNPValidated]), what: "validated"),
                ]
            case .tdx:
                [
                    reachesMilestones([.memoryPrepared]),
                    validatesExactly(
                        pages(of: [GPARange(start: 0, end: RunOptions().memory)]).subtracting(pages(of: ovmfTDXAdded)), what: "accepted"),
                ]
            }
        })

    /// The first platform fault the firmware met, as the run's failure names it.
    struct FirmwareFault {
        let gpa: UInt64
        let failure: String
    }

    /// The failure and the GPA of the first unvalidated (SNP) / unaccepted (TDX) access.
    static func firstFault(_ result: RunResult) -> FirmwareFault? {
        guard let failure = result.failures.first else { return nil }
        for event in result.events {
            if case .served(_, .sevSNP, .unvalidatedAccess(_, let gpa, _), _) = event { return FirmwareFault(gpa: gpa, failure: failure) }
        }
        let stop = "guest access before accepting 0x"
        guard let range = failure.range(of: stop) else { return nil }
        let digits = failure[range.upperBound...].prefix { $0.isHexDigit }
        return UInt64(digits, radix: 16).map { FirmwareFault(gpa: $0, failure: failure) }
    }

    /// The run failed at the platform's fault for an access to a GPA `gpa` accepts, with a
    /// failure that names the GPA, where the instruction was, and (`section`) the metadata section.
    static func failsAtFault(_ what: String, gpa wanted: @escaping @Sendable (UInt64) -> Bool, section: String?) -> Expectation {
        .custom("fails at \(what)") { result in
            if result.passed { return "the run passed: the firmware met no fault" }
            guard let fault = firstFault(result) else { return "the run failed without the platform's fault: \(result.failures.first ?? "-")" }
            if !wanted(fault.gpa) { return "the first fault is at \(hex(fault.gpa)), expected \(what)" }
            if !fault.failure.contains("\(hex(fault.gpa))") || !fault.failure.contains(" at 0x") {
                return "the failure does not name the GPA \(hex(fault.gpa)) and where: \(fault.failure)"
            }
            if let section, !fault.failure.contains(section) { return "the failure does not name \(section): \(fault.failure)" }
            return nil
        }
    }

    static let ovmfSECOmittedSection = Scenario(
        name: "ovmf-sec-omitted-section",
        proves:
            "a launch that leaves out the metadata section holding OVMF's work area (SEV section 1, SNP_SEC_MEM [0x80a000, 0x80d000); TDX section 3, TEMP_MEM [0x80b000, 0x80d000)) is caught at the reset vector's first write, to 0x80b000: SNP #VC 0x404 (then a triple fault, no IDT yet), TDX a stop for a guest access before accepting; the failure names the GPA, the RIP and the section",
        failureMeans:
            "the runner populated the section anyway, or the platform let the firmware use memory the launch never prepared, or the failure does not say where",
        platforms: [.sevSNP, .tdx], firmware: FirmwareVolumeSource(),
        configure: { options, platform in
            options.until = .memoryPrepared
            options.launchOmittedSection = ovmfOmittedSection(platform)
        },
        expectations: { platform in
            let section =
                platform == .tdx
                ? "in TDX metadata section 3, TEMP_MEM [0x80b000, 0x80d000), omitted at launch"
                : "in SEV metadata section 1, SNP_SEC_MEM [0x80a000, 0x80d000), omitted at launch"
            return [failsAtFault("the work area \(hex(ovmfWorkArea))", gpa: { $0 == ovmfWorkArea }, section: section), noValidations]
        })

    static let ovmfSECNoPValidate = Scenario(
        name: "ovmf-sec-no-pvalidate",
        proves:
            "an OVMF whose one PVALIDATE validates nothing and answers success is caught by the platform, not by the firmware: SEC still makes [0x820000, 0x1710000) private by PSC, and its first use of that memory (SEC's decompression, past `memory-prepared`) meets #VC 0x404, named with its GPA and RIP",
        failureMeans: "the platform let the firmware use private memory it never validated, or the failure does not say where",
        platforms: [.sevSNP], firmware: FirmwareVolumeSource(defect: .pvalidateSkipped),
        configure: { options, _ in options.until = .pei },
        expectations: { _ in
            [failsAtFault("a page of \(ovmfSNPValidated)", gpa: { ovmfSNPValidated.contains($0) }, section: nil), noValidations]
        })

    static let ovmfSECNoAccept = Scenario(
        name: "ovmf-sec-no-accept",
        proves:
            "an OVMF whose one TDG.MEM.PAGE.ACCEPT call is skipped (answering success) is caught by the platform: its first use of RAM the TD HOB calls unaccepted stops the TD (guest access before accepting), named with its GPA and RIP",
        failureMeans: "the platform let the firmware use pending memory, or the failure does not say where",
        platforms: [.tdx], firmware: FirmwareVolumeSource(defect: .acceptSkipped),
        configure: { options, _ in options.until = .memoryPrepared },
        expectations: { _ in
            let added = pages(of: ovmfTDXAdded)
            return [
                failsAtFault("RAM the TD HOB calls unaccepted", gpa: { !added.contains($0 & ~0xFFF) && $0 < RunOptions().memory }, section: nil), noValidations,
            ]
        })
}
