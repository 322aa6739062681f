import Foundation
import GuestPhysical
import HostRunner
import KVM
import Payload
import XCTest

/// Debian's OVMF.fd (edk2 2022.11) run from reset as an SEV-SNP guest, a TD and a plain guest,
/// to the end of SEC's memory preparation, with what it validated or accepted compared with
/// what edk2's SEC code implies for this image and RAM size (docs/firmware.md). A missing
/// OVMF.fd is a failure saying how to install it, not a skip.
final class FirmwareVolumeTests: XCTestCase {
    static let ram: UInt64 = 64 << 20

    static func ovmf() throws -> Image {
        let path = ProcessInfo.processInfo.environment["ENLIGHTEN_OVMF"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/share/ovmf/OVMF.fd"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FirmwareMissing(
                description: "Debian's OVMF.fd is not at \(path): bash scripts/test.sh installs it (apt-get install ovmf), or set ENLIGHTEN_OVMF")
        }
        return try Image(firmwareVolume: "OVMF", bytes: [UInt8](data))
    }

    static func run(_ platform: ConversionPlatform, maxEvents: Int = RunOptions.maximumMaxEvents) throws -> RunResult {
        let image = try ovmf()
        return try KVMHost.run(image, timeout: 60) {
            $0.platform = platform
            $0.transport = .trap
            $0.memory = ram
            $0.until = .memoryPrepared
            $0.maxEvents = maxEvents
        }
    }

    /// The 4 KiB pages a list of validation events changed, each counted.
    static func changedPages(_ result: RunResult) -> [UInt64: Int] {
        var pages: [UInt64: Int] = [:]
        for case .validation(_, let record) in result.events where record.changed {
            var page = record.range.start
            while page < record.range.end {
                pages[page, default: 0] += 1
                page += 0x1000
            }
        }
        return pages
    }

    static func pages(of ranges: [GPARange]) -> Set<UInt64> {
        var pages = Set<UInt64>()
        for range in ranges { pages.formUnion(stride(from: range.start, to: range.end, by: 0x1000)) }
        return pages
    }

    /// A plain guest: SEC prepares no memory, and reaches the PIC mask after its FPU setup,
    /// which this host's KVM cannot run and the runner performs.
    func testOVMFReachesSECMemoryPreparationAsAPlainGuest() throws {
        let result = try Self.run(.kvm)
        XCTAssertTrue(result.passed, "\(result.failures)")
        XCTAssertEqual(result.milestones, [.memoryPrepared])
        XCTAssertEqual(result.milestoneStops, [0: .memoryPrepared])
        XCTAssertTrue(Self.changedPages(result).isEmpty)
        let emulated = Set(result.events.compactMap { event -> String? in if case .emulated(_, let name, _) = event { name } else { nil } })
        XCTAssertEqual(emulated, ["fwait", "fldcw", "ldmxcsr"], "InitializeFloatingPointUnits: finit (fwait; fninit), fldcw, ldmxcsr")
    }

    /// SEV-SNP: SEC registers its GHCB at 0x809000 and validates exactly
    /// [0x820000, 0x1710000), PEIFV's base to the decompression scratch end (edk2 2022.11
    /// OvmfPkg/Library/BaseMemEncryptSevLib/X64/SecSnpSystemRamValidate.c: PcdOvmfPeiMemFvBase
    /// up to PcdOvmfDecompressionScratchEnd, OvmfPkgX64.fdf and FvmainCompactScratchEnd.fdf.inc),
    /// each page once, after a PSC to private; nothing else. Its 2 MiB attempts meet
    /// FAIL_SIZEMISMATCH (4 KiB RMP entries here) and it retries them as 4 KiB pages.
    func testOVMFValidatesExactlyItsSECRangeAsAnSNPGuest() throws {
        let result = try Self.run(.sevSNP)
        XCTAssertTrue(result.passed, "\(result.failures)")
        XCTAssertEqual(result.milestones, [.ghcbRegistered, .memoryPrepared])
        let registered = result.events.compactMap { event -> UInt64? in
            if case .served(_, .sevSNP, .registerGHCB(let gpa), _) = event { gpa } else { nil }
        }
        XCTAssertEqual(registered, [0x80_9000], "the GHCB page of OvmfPkgX64.fdf")
        let validated = Self.changedPages(result)
        let expected = Self.pages(of: [GPARange(start: 0x82_0000, end: 0x171_0000)])
        XCTAssertEqual(Set(validated.keys), expected)
        XCTAssertEqual(validated.values.filter { $0 != 1 }.count, 0, "no page validated twice")
        let failures = result.events.compactMap { event -> ValidationRecord? in
            if case .validation(_, let record) = event, !record.changed { record } else { nil }
        }
        XCTAssertFalse(failures.isEmpty, "the 2 MiB attempts")
        XCTAssertTrue(failures.allSatisfy { $0.pageSize == 2 << 20 && "\($0.result)".contains("FAIL_SIZEMISMATCH") }, "\(failures.prefix(3))")
        let privatized = result.conversions.filter { $0.record.direction == .private }.map(\.record.range)
        XCTAssertTrue(expected.isSubset(of: Self.pages(of: privatized)), "every validated page was made private by a PSC first")
    }

    /// TDX: SEC accepts every page the TD HOB calls unaccepted below 4 GiB (edk2 2022.11
    /// OvmfPkg/Library/PlatformInitLib/IntelTdx.c ProcessTdxHobList), each once: the run's RAM
    /// minus the sections the VMM added (TD_HOB and TEMP_MEM from the image's TDVF metadata).
    func testOVMFAcceptsExactlyTheUnacceptedRAMAsATD() throws {
        let image = try Self.ovmf()
        let result = try Self.run(.tdx)
        XCTAssertTrue(result.passed, "\(result.failures)")
        XCTAssertEqual(result.milestones, [.memoryPrepared])
        guard let metadata = FirmwareImage(bytes: image.romBytes() ?? []).tdxMetadata else { return XCTFail("no TDVF metadata") }
        let added = metadata.sections.filter { $0.type == .tdHob || $0.type == .tempMem }
            .map { GPARange(start: $0.memoryAddress, end: $0.memoryAddress + $0.memorySize) }
        let expected = Self.pages(of: [GPARange(start: 0, end: Self.ram)]).subtracting(Self.pages(of: added))
        let accepted = Self.changedPages(result)
        XCTAssertEqual(Set(accepted.keys), expected)
        XCTAssertEqual(accepted.values.filter { $0 != 1 }.count, 0, "no page accepted twice")
    }

    /// The run's summary (`FirmwareMemorySummary`) of an SNP run says what SEC validated in a
    /// line: [0x820000, 0x1710000) in 4 KiB pages, its 2 MiB attempts all FAIL_SIZEMISMATCH.
    func testOVMFSummarySaysWhatSECValidated() throws {
        let result = try Self.run(.sevSNP)
        XCTAssertTrue(result.passed, "\(result.failures)")
        let summary = try XCTUnwrap(result.firmwareMemory)
        XCTAssertEqual(summary.validated, [ValidationTally.Span(range: GPARange(start: 0x82_0000, end: 0x171_0000), pageSize: 0x1000)])
        XCTAssertTrue(summary.lines.contains("  validated: [0x820000, 0x1710000) in 4 KiB pages (3824)"), "\(summary.lines)")
        XCTAssertEqual(summary.successes.map(\.count), [3824])
        XCTAssertEqual(summary.failures.map(\.answer), ["FAIL_SIZEMISMATCH (RAX 6)"])
        XCTAssertEqual(summary.failures.map(\.pageSize), [2 << 20])
        XCTAssertTrue(summary.unvalidated.contains { $0.contains(GPARange(start: 0x171_0000, end: Self.ram)) }, "RAM above the SEC range")
    }

    /// A TD's SEC accepts more pages (16,384 less the added sections at 64 MiB) than the
    /// default event log keeps; the summary still counts them all and leaves no RAM pending.
    func testOVMFSummaryCountsEveryAcceptancePastTheEventLimit() throws {
        let result = try Self.run(.tdx, maxEvents: RunOptions.defaultMaxEvents)
        XCTAssertTrue(result.passed, "\(result.failures)")
        XCTAssertNotNil(result.eventsNotKept[.validation], "the log did not keep them all")
        let summary = try XCTUnwrap(result.firmwareMemory)
        XCTAssertEqual(summary.unvalidated, [])
        let added = summary.launched.reduce(UInt64(0)) { $0 + $1.range.size }
        let accepted = summary.validated.reduce(UInt64(0)) { $0 + $1.range.size }
        XCTAssertEqual(accepted + added, Self.ram, "\(summary.lines)")
        XCTAssertEqual(summary.successes.reduce(0) { $0 + $1.count }, Int(accepted / 0x1000), "4 KiB pages only")
    }
}

/// Not a skip: a test that needs the firmware fails saying how to get it.
struct FirmwareMissing: Error, CustomStringConvertible {
    let description: String
}
