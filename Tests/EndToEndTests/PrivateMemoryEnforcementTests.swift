import GuestPhysical
import HostRunner
import Payload
import XCTest

/// Private memory enforced in software where KVM enforces none: what a guest's access meets
/// is what the platform would make it meet (docs/platform-model.md §2.3, §3.3).
final class PrivateMemoryEnforcementTests: XCTestCase {
    /// RAM outside the plan is private and pending in a TD: reading it before accepting is
    /// KVM's "guest access before accepting" (SEPT_VE_DISABLE, the default), naming the GPA.
    func testTDXReadOfUnacceptedRAMStopsTheTD() throws {
        let result = try KVMHost.run(try KVMHost.build("outside-plan.asm")) { $0.platform = .tdx }
        XCTAssertFalse(result.passed)
        guard case .platformStopped(let reason)? = result.stops.first?.reason else { return XCTFail("\(result.failures)") }
        XCTAssertTrue(reason.hasPrefix("guest access before accepting 0x400000"), reason)
        XCTAssertTrue(reason.contains("read_here"), reason)
        XCTAssertTrue(result.conversions.isEmpty, "no conversion happened")
    }

    /// The same stub is an ordinary KVM guest: no validation concept, so it passes.
    func testKVMReadOfRAMOutsideThePlanPasses() throws {
        let result = try KVMHost.run(try KVMHost.build("outside-plan.asm")) { $0.platform = .kvm }
        XCTAssertTrue(result.passed, "\(result.failures)")
    }

    /// memory-fault with SEPT_VE_DISABLE clear: a private read of a shared page converts it
    /// implicitly to private and PENDING; the retried read takes a #VE whose VEINFO names the
    /// EPT violation and GPA, the guest accepts the page and resumes; then a shared read of a
    /// private page converts it implicitly to shared. Exactly those two pages.
    func testTDXImplicitConversionsInBothDirectionsWithAVirtualizationException() throws {
        let result = try KVMHost.run(try KVMHost.build("memory-fault")) {
            $0.platform = .tdx; $0.tdxAttributes = 0
        }
        XCTAssertTrue(result.passed, "\(result.failures)")
        let implicit = result.conversions.map(\.record).filter(\.form.isImplicit)
        XCTAssertEqual(implicit.map(\.range), [GPARange(start: 0x40_0000, end: 0x40_1000), GPARange(start: 0x40_1000, end: 0x40_2000)])
        XCTAssertEqual(implicit.map(\.direction), [.private, .shared])
        let served = result.events.compactMap { event -> String? in if case .served(_, .tdx, _, let answer) = event { answer } else { nil } }
        XCTAssertTrue(served.contains("#VE (EPT violation, GPA 0x400000)"), "\(served)")
        XCTAssertEqual(result.events.compactMap(\.validation).map(\.result.description), ["TDX_SUCCESS"])
    }

    /// The same with SEPT_VE_DISABLE set (the default, what Linux requires): the retried read
    /// of the now pending page is the TD's end, at the read, after exactly one conversion.
    func testTDXPendingAccessAfterAnImplicitConversionStopsTheTDUnderSEPTVEDisable() throws {
        let result = try KVMHost.run(try KVMHost.build("memory-fault")) { $0.platform = .tdx }
        XCTAssertFalse(result.passed)
        guard case .platformStopped(let reason)? = result.stops.first?.reason else { return XCTFail("\(result.failures)") }
        XCTAssertTrue(reason.hasPrefix("guest access before accepting 0x400000"), reason)
        XCTAssertEqual(result.conversions.map(\.record.range), [GPARange(start: 0x40_0000, end: 0x40_1000)])
    }
}

extension PrivateMemoryEnforcementTests {
    /// RAM outside the plan is guest-owned but not validated in an SNP guest: a C=1 read of it
    /// is #VC with error code 0x404 (SVM_EXIT_PAGE_NOT_VALIDATED), at the read, CR2 irrelevant.
    func testSNPReadOfUnvalidatedRAMIsAPageNotValidatedVC() throws {
        let result = try assertPageNotValidatedVC(.direct64)
        let served = result.events.compactMap { event -> ServedRequest? in if case .served(_, .sevSNP, let request, _) = event { request } else { nil } }
        XCTAssertTrue(served.contains { if case .unvalidatedAccess(.read, 0x40_0000, _) = $0 { true } else { false } }, "\(served)")
    }

    /// outside-plan under --platform ghcb in `layout`: #VC 0x404 at the read, naming the GPA,
    /// and nothing converted.
    @discardableResult
    private func assertPageNotValidatedVC(_ layout: Layout, file: StaticString = #filePath, line: UInt = #line) throws -> RunResult {
        let result = try KVMHost.run(try KVMHost.build("outside-plan.asm", layout: layout)) { $0.platform = .sevSNP }
        XCTAssertFalse(result.passed, file: file, line: line)
        guard case .exception(let vector, let errorCode, let at, _)? = result.stops.first?.reason else {
            XCTFail("\(result.failures)", file: file, line: line)
            return result
        }
        XCTAssertEqual(vector, 29, "#VC", file: file, line: line)
        XCTAssertEqual(errorCode, 0x404, "SVM_EXIT_PAGE_NOT_VALIDATED", file: file, line: line)
        XCTAssertTrue(at.hasPrefix("read_here"), at, file: file, line: line)
        XCTAssertTrue(at.contains("GPA 0x400000"), "the diagnosis names the GPA: \(at)", file: file, line: line)
        XCTAssertTrue(result.conversions.isEmpty, "the read through the C=1 view converted nothing", file: file, line: line)
        return result
    }
}

/// The same stub as a firmware image, started at the reset vector: its reset path, not the
/// VMM, gives an SNP guest's page tables the C-bit, and the platforms answer the same.
extension PrivateMemoryEnforcementTests {
    func testFirmwareImageReadOfUnvalidatedRAMIsAPageNotValidatedVCOnSNP() throws {
        try assertPageNotValidatedVC(.firmware)
    }

    func testFirmwareImageReadOfUnacceptedRAMStopsTheTD() throws {
        let result = try KVMHost.run(try KVMHost.build("outside-plan.asm", layout: .firmware)) { $0.platform = .tdx }
        XCTAssertFalse(result.passed)
        guard case .platformStopped(let reason)? = result.stops.first?.reason else { return XCTFail("\(result.failures)") }
        XCTAssertTrue(reason.hasPrefix("guest access before accepting 0x400000"), reason)
        XCTAssertTrue(reason.contains("read_here"), reason)
    }

    func testFirmwareImageReadOfRAMOutsideThePlanPassesOnKVM() throws {
        let result = try KVMHost.run(try KVMHost.build("outside-plan.asm", layout: .firmware)) { $0.platform = .kvm }
        XCTAssertTrue(result.passed, "\(result.failures)")
    }
}

/// The runtime's own #VE report, as it would read on TDX hardware, where no host explains it.
extension PrivateMemoryEnforcementTests {
    /// An unhooked #VE: before stopping, the handler asks TDG.VP.VEINFO.GET and reports what it
    /// says — exit reason 48 (EPT violation), qualification 0x181 (bit 0 a read, bit 7 GLA
    /// valid, bit 8 an access to the translated address: Intel SDM vol. 3 table 28-7; bits 3-5
    /// clear, the pending page being mapped for nothing), and the exact GLA and GPA read.
    func testUnhookedVirtualizationExceptionIsReportedWithItsVEInfo() throws {
        let result = try KVMHost.run(try KVMHost.build("unhandled-ve.asm")) {
            $0.platform = .tdx; $0.tdxAttributes = 0
        }
        XCTAssertFalse(result.passed)
        guard case .exception(let vector, _, let at, _)? = result.stops.first?.reason else { return XCTFail("\(result.failures)") }
        XCTAssertEqual(vector, 20, "#VE")
        XCTAssertTrue(at.hasPrefix("read_here"), at)
        XCTAssertEqual(result.values["#VE.exit_reason"], 48)
        XCTAssertEqual(result.values["#VE.exit_qualification"], 0x181)
        XCTAssertEqual(result.values["#VE.gla"], 0x40_0018)
        XCTAssertEqual(result.values["#VE.gpa"], 0x40_0018)
    }

    /// A stub that never speaks TDX itself still links the TDX library (the runtime's reports
    /// speak TDVMCALL Instruction.IO on TDX, GuestStubs/runtime/portio.asm), so its #VE report
    /// carries the VE info too, and the run names the GPA from the host's side.
    func testAVirtualizationExceptionInAStubThatNeverSpeaksTDXStopsNamingTheGPA() throws {
        let result = try KVMHost.run(try KVMHost.build("outside-plan.asm")) {
            $0.platform = .tdx; $0.tdxAttributes = 0
        }
        guard case .exception(20, _, let at, _)? = result.stops.first?.reason else { return XCTFail("\(result.failures)") }
        XCTAssertTrue(at.contains("GPA 0x400000"), at)
        XCTAssertEqual(result.values["#VE.exit_reason"], 48)
        XCTAssertEqual(result.values["#VE.gpa"], 0x40_0000)
    }
}

/// Writes: this host retires a write before it exits, the platforms fault before it happens.
extension PrivateMemoryEnforcementTests {
    /// The first touch of freshly converted memory is a write; the guest's #VC handler
    /// validates the page at CR2 (the faulting GVA, AMD APM vol. 2 §15.36.10), the write runs
    /// again and lands, and the next write does not fault.
    func testSNPFirstWriteToAnUnvalidatedPageFaultsAtTheWriteWithCR2AndRunsAgain() throws {
        let result = try KVMHost.run(try KVMHost.build("first-touch-write.asm")) { $0.platform = .sevSNP }
        XCTAssertTrue(result.passed, "\(result.failures)")
        XCTAssertEqual(result.values["vc_cr2"], 0x40_0028)
        XCTAssertEqual(result.events.compactMap(\.validation).map(\.result.description).last, "success (RAX 0)")
    }

    /// The same as a TD with SEPT_VE_DISABLE clear: #VE at the write, whose VE info names the
    /// GLA written; the handler accepts and the write lands.
    func testTDXFirstWriteToAPendingPageTakesAVirtualizationExceptionAtTheWrite() throws {
        let result = try KVMHost.run(try KVMHost.build("first-touch-write.asm")) {
            $0.platform = .tdx; $0.tdxAttributes = 0
        }
        XCTAssertTrue(result.passed, "\(result.failures)")
        XCTAssertEqual(result.values["ve_gla"], 0x40_0028)
    }

    /// With SEPT_VE_DISABLE set there is no #VE to handle: the TD ends, and the diagnosis is
    /// at the writing instruction, not the one after it.
    func testATDEndedByAWriteIsDiagnosedAtTheWritingInstruction() throws {
        let result = try KVMHost.run(try KVMHost.build("first-touch-write.asm")) { $0.platform = .tdx }
        guard case .platformStopped(let reason)? = result.stops.first?.reason else { return XCTFail("\(result.failures)") }
        XCTAssertTrue(reason.hasPrefix("guest access before accepting 0x400028 (a write"), reason)
        XCTAssertTrue(reason.contains("at write_first ("), reason)
    }

    /// C=0 reads of private memory meet no RMP check (APM vol. 2 table 15-39): they read
    /// ciphertext, convert nothing and raise nothing; a C=0 write converts the page to shared.
    func testSNPUnencryptedReadsOfPrivateMemoryReadCiphertextAndConvertNothing() throws {
        let result = try KVMHost.run(try KVMHost.build("unencrypted-read.asm")) { $0.platform = .sevSNP }
        XCTAssertTrue(result.passed, "\(result.failures)")
        XCTAssertEqual(result.conversions.map(\.record.range), [GPARange(start: 0x40_0000, end: 0x40_1000)], "only the C=0 write converts")
        XCTAssertEqual(result.conversions.map(\.record.direction), [.shared])
    }
}

/// What this runner cannot follow says so.
extension PrivateMemoryEnforcementTests {
    /// A walk through a C=0 CR3 to private tables: fine on hardware, a shutdown here whose
    /// diagnosis names the cause and the table.
    func testAPageTableWalkThroughAC0CR3IsDiagnosed() throws {
        let result = try KVMHost.run(try KVMHost.build("c0-page-tables.asm")) { $0.platform = .sevSNP }
        guard case .tripleFault(let at)? = result.stops.first?.reason else { return XCTFail("\(result.failures)") }
        XCTAssertTrue(at.contains("CR3 points at page-table page 0x"), at)
        XCTAssertTrue(at.contains("without the C-bit, and it is private"), at)
    }
}

/// What a page made private at run time holds when the guest first reads it.
extension PrivateMemoryEnforcementTests {
    /// KVM: guest_memfd's fresh page, zero. TDX: ACCEPT clears it with the TD's key, zero.
    /// SEV-SNP: zeroed through the host's mapping, it decrypts to noise under the guest's key —
    /// neither zero nor the old shared content — and PVALIDATE alone (rescind, validate again)
    /// leaves the content as it was.
    func testAPageMadePrivateAtRunTimeReadsAsEachPlatformLeavesIt() throws {
        let image = try KVMHost.build("fresh-private-content.asm")
        for platform in [ConversionPlatform.kvm, .sevSNP, .tdx] {
            let result = try KVMHost.run(image) { $0.platform = platform }
            XCTAssertTrue(result.passed, "\(platform): \(result.failures)")
            let first = try XCTUnwrap(result.values["fresh.first_qword"], "\(platform)")
            if platform == .sevSNP {
                XCTAssertNotEqual(first, 0, "SNP: noise, not zeros")
                let kept = result.events.contains { event in
                    if case .record(_, .check("fresh.revalidated_kept", _, _, true)) = event { true } else { false }
                }
                XCTAssertTrue(kept, "the revalidated page kept its content")
            } else {
                XCTAssertEqual(first, 0, "\(platform)")
            }
        }
    }
}
