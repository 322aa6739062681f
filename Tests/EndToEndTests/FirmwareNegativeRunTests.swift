import Foundation
import GuestPhysical
import HostRunner
import KVM
import Payload
import XCTest

/// The bugs a firmware run is for (docs/firmware.md, "Catching bugs"): Debian's OVMF.fd under a
/// launch that leaves out a metadata section it relies on, and copies of it whose validation
/// this test breaks itself. Each run must fail for the reason the platform gives, and its
/// failure must name the GPA, where the instruction was and the section the GPA lies in.
final class FirmwareNegativeRunTests: XCTestCase {
    /// OVMF's work area (PcdOvmfWorkAreaBase, OvmfPkgX64.fdf): the reset vector's first write
    /// is its guest-type byte.
    static let workArea: UInt64 = 0x80_B000
    /// What SEC validates on SNP (SecSnpSystemRamValidate.c, edk2 2022.11).
    static let snpValidated = GPARange(start: 0x82_0000, end: 0x171_0000)

    static func run(_ image: Image, _ platform: ConversionPlatform, until: FirmwareMilestone, omit: Int? = nil) throws -> RunResult {
        try KVMHost.run(image, timeout: 60) {
            $0.platform = platform
            $0.transport = .trap
            $0.memory = FirmwareVolumeTests.ram
            $0.until = until
            $0.launchOmittedSection = omit
        }
    }

    /// A copy of OVMF.fd with `pattern` (which must occur exactly once) replaced; returns the
    /// image and the GPA of the change.
    static func patched(_ pattern: [UInt8], with replacement: [UInt8]) throws -> (Image, UInt64) {
        var bytes = try FirmwareVolumeTests.ovmf().romBytes() ?? []
        let sites = (0...(bytes.count - pattern.count)).filter { Array(bytes[$0..<$0 + pattern.count]) == pattern }
        guard sites.count == 1, let site = sites.first else { throw FirmwareMissing(description: "\(sites.count) sites of \(pattern) in OVMF.fd, not 1") }
        bytes.replaceSubrange(site..<site + pattern.count, with: replacement)
        return (try Image(firmwareVolume: "OVMF-patched", bytes: bytes), (1 << 32) - UInt64(bytes.count) + UInt64(site))
    }

    /// The first hex number after `marker` in `text`.
    static func number(after marker: String, in text: String) -> UInt64? {
        guard let range = text.range(of: marker) else { return nil }
        return UInt64(text[range.upperBound...].prefix { $0.isHexDigit }, radix: 16)
    }

    /// SEV section 1 (SNP_SEC_MEM [0x80a000, 0x80d000)) left out: the pages stay private and
    /// not validated, so the reset vector's first write, `mov byte [0x80b000], 0` in 32-bit
    /// code before any IDT, meets #VC 0x404, which shuts the guest down.
    func testOmittedSNPSectionFaultsAtTheResetVectorsFirstWrite() throws {
        let image = try FirmwareVolumeTests.ovmf()
        let result = try Self.run(image, .sevSNP, until: .memoryPrepared, omit: 1)
        XCTAssertFalse(result.passed)
        XCTAssertFalse(result.population.launchPages.contains { $0.range.start == 0x80_A000 }, "the section was populated")
        let faults = result.events.compactMap { event -> (UInt64, String, String)? in
            if case .served(_, .sevSNP, .unvalidatedAccess(.write, let gpa, let at), let answer) = event { (gpa, at, answer) } else { nil }
        }
        guard let (gpa, at, answer) = faults.first else { return XCTFail("no #VC 0x404: \(result.failures)") }
        XCTAssertEqual(gpa, Self.workArea)
        XCTAssertTrue(answer.hasPrefix("#VC 0x404"), answer)
        // The RIP named is the writing instruction's first byte: C6 05 disp32 imm8 to 0x80b000.
        guard let rip = Self.number(after: "0x", in: at), let rom = image.romBytes() else { return XCTFail(at) }
        let offset = Int(rip - ((1 << 32) - UInt64(rom.count)))
        XCTAssertEqual(Array(rom[offset..<offset + 7]), [0xC6, 0x05, 0x00, 0xB0, 0x80, 0x00, 0x00], "mov byte [0x80b000], 0 at \(at)")
        let failure = result.failures.first ?? ""
        XCTAssertTrue(failure.hasPrefix("triple fault"), failure)
        XCTAssertTrue(failure.contains("0x80b000") && failure.contains("at \(at)"), failure)
        XCTAssertTrue(failure.contains("in SEV metadata section 1, SNP_SEC_MEM [0x80a000, 0x80d000), omitted at launch"), failure)
    }

    /// TDX section 3 (TEMP_MEM [0x80b000, 0x80d000)) left out: not added, so pending, and the
    /// reset vector's first write of the work area stops the TD.
    func testOmittedTDXSectionStopsTheTDAtItsFirstUse() throws {
        let result = try Self.run(try FirmwareVolumeTests.ovmf(), .tdx, until: .memoryPrepared, omit: 3)
        XCTAssertFalse(result.passed)
        XCTAssertFalse(result.population.launchPages.contains { $0.range.start == 0x80_B000 }, "the section was added")
        let failure = result.failures.first ?? ""
        XCTAssertEqual(Self.number(after: "guest access before accepting 0x", in: failure), Self.workArea, failure)
        XCTAssertNotNil(Self.number(after: ") at 0x", in: failure), "the RIP: \(failure)")
        XCTAssertTrue(failure.contains("in TDX metadata section 3, TEMP_MEM [0x80b000, 0x80d000), omitted at launch"), failure)
        XCTAssertTrue(result.events.compactMap(\.validation).isEmpty)
    }

    /// Sections the firmware parses, and kvm, are refused with what is allowed.
    func testOmittingASectionThatIsNotMemoryIsRefused() throws {
        let image = try FirmwareVolumeTests.ovmf()
        XCTAssertThrowsError(try Self.run(image, .tdx, until: .memoryPrepared, omit: 4)) { error in
            XCTAssertTrue("\(error)".contains("section 4 is TD_HOB") && "\(error)".contains("2 (TEMP_MEM [0x810000, 0x820000))"), "\(error)")
        }
        XCTAssertThrowsError(try Self.run(image, .sevSNP, until: .memoryPrepared, omit: 3)) { error in
            XCTAssertTrue("\(error)".contains("section 3 is CPUID"), "\(error)")
        }
        XCTAssertThrowsError(try Self.run(image, .kvm, until: .memoryPrepared, omit: 1)) { error in
            XCTAssertTrue("\(error)".contains("needs --platform ghcb or tdx"), "\(error)")
        }
    }

    /// SEC's one PVALIDATE made `xor eax, eax; nop; nop`: it validates nothing and reports
    /// success (four NOPs would leave the address in RAX, which SEC reports and terminates
    /// on). SEC still makes its range private by PSC and reaches memory-prepared; its
    /// decompression's first write into the range meets #VC 0x404, which OVMF's handler
    /// forwards as an unsupported VMGEXIT, and KVM stops the guest.
    func testSkippedPValidateIsCaughtAtTheFirstUseOfTheRange() throws {
        let (image, site) = try Self.patched([0xF2, 0x0F, 0x01, 0xFF], with: [0x31, 0xC0, 0x90, 0x90])
        XCTAssertEqual(site, 0xFFFD_2B67, "AsmPvalidate in Debian's OVMF.fd")
        let result = try Self.run(image, .sevSNP, until: .pei)
        XCTAssertFalse(result.passed)
        XCTAssertEqual(result.milestones, [.ghcbRegistered, .memoryPrepared])
        XCTAssertTrue(result.events.compactMap(\.validation).isEmpty, "no PVALIDATE reached the platform")
        let privatized = result.conversions.filter { $0.record.direction == .private }.map(\.record.range)
        XCTAssertTrue(
            FirmwareVolumeTests.pages(of: [Self.snpValidated]).isSubset(of: FirmwareVolumeTests.pages(of: privatized)),
            "SEC's PSCs to private still happened")
        let faults = result.events.compactMap { event -> (UInt64, String)? in
            if case .served(_, .sevSNP, .unvalidatedAccess(_, let gpa, let at), _) = event { (gpa, at) } else { nil }
        }
        guard let (gpa, at) = faults.first else { return XCTFail("no #VC 0x404: \(result.failures)") }
        XCTAssertTrue(Self.snpValidated.contains(gpa), hex(gpa))
        let failure = result.failures.first ?? ""
        XCTAssertTrue(failure.contains("page \(hex(gpa)) at \(at)") && failure.contains("#VC 0x404"), failure)
    }

    /// SEC's one TdCall(TDG.MEM.PAGE.ACCEPT) call made five NOPs: the TDCALL is the helper
    /// every leaf shares, and RAX is already 0 (TDX_SUCCESS) at the call. Nothing is
    /// accepted, and SEC's first use of RAM the TD HOB calls unaccepted stops the TD.
    func testSkippedAcceptIsCaughtAtTheFirstUseOfUnacceptedRAM() throws {
        // mov ecx, 6 (TDCALL_TDACCEPTPAGE); mov [rsp+0x38], r10; call TdCall
        let call: [UInt8] = [0xB9, 0x06, 0x00, 0x00, 0x00, 0x4C, 0x89, 0x54, 0x24, 0x38, 0xE8, 0x1C, 0x4A, 0x00, 0x00]
        let (image, site) = try Self.patched(call, with: Array(call[0..<10]) + [UInt8](repeating: 0x90, count: 5))
        XCTAssertEqual(site + 10, 0xFFFC_E053, "TdAcceptPages' call in Debian's OVMF.fd")
        let result = try Self.run(image, .tdx, until: .memoryPrepared)
        XCTAssertFalse(result.passed)
        XCTAssertTrue(result.events.compactMap(\.validation).isEmpty, "no ACCEPT reached the platform")
        let failure = result.failures.first ?? ""
        guard let gpa = Self.number(after: "guest access before accepting 0x", in: failure) else { return XCTFail(failure) }
        let added = [
            GPARange(start: 0x80_0000, end: 0x80_6000), GPARange(start: 0x80_9000, end: 0x80_D000), GPARange(start: 0x81_0000, end: 0x82_0000),
        ]
        XCTAssertTrue(gpa < FirmwareVolumeTests.ram && !added.contains { $0.contains(gpa) }, "\(hex(gpa)) is RAM the HOB calls unaccepted")
        XCTAssertNotNil(Self.number(after: ") at 0x", in: failure), "the RIP: \(failure)")
        XCTAssertFalse(failure.contains("metadata section"), failure)
    }
}
