import Foundation
import Payload
import TestSupport
import XCTest

/// Issue 20: `inspect` does bounded work on any firmware file. Tables naming more than a launch
/// can populate are refused in one line naming the section, before any hashing; the largest
/// tables that are accepted finish within the bound docs/measurement.md gives.
final class InspectBoundTests: XCTestCase {
    typealias T = FirmwareTestImage

    private func enlighten() throws -> String {
        let found = EnlightenExecutable.path(besideBundleOf: Self.self)
        return try XCTUnwrap(found.path, "the enlighten executable is not next to the tests (looked in \(found.lookedIn))")
    }

    /// A 2 MiB image (at 0xFFE00000) whose footer points at `sev` and/or `tdvf` tables (and an
    /// SEV-ES reset block, for APs), written to a file removed when the test ends.
    private func image(sev: [UInt8]? = nil, tdvf: [UInt8]? = nil, size: Int = 0x20_0000) throws -> String {
        var image = T(size: size)
        var entries: [(String, [UInt8])] = [(T.resetBlockGUID, T.le32(0xFFFF_FFE0))]
        var at = 0x1000
        if let sev {
            image.put(sev, at: at)
            entries.append((T.sevMetadataGUID, T.le32(UInt32(size - at))))
            at += (sev.count + 15) / 16 * 16
        }
        if let tdvf {
            image.put(tdvf, at: at)
            entries.append((T.tdxMetadataGUID, T.le32(UInt32(size - at))))
        }
        image.writeTable(entries)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-bound-\(UUID()).fd").path
        try Data(image.bytes).write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func inspect(_ arguments: [String], within seconds: Double) throws -> (Command.Result, Double) {
        let started = Date()
        let result = try Command.execute(try enlighten(), ["inspect"] + arguments, timeout: seconds)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertFalse(result.timedOut, "inspect \(arguments.joined(separator: " ")) was still running after \(seconds) s")
        return (result, elapsed)
    }

    /// `inspect --mode MODE` of `path` refuses in exactly `message` (one line, exit 1) within 5 s.
    private func assertRefused(
        _ path: String, mode: String, _ message: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let (result, elapsed) = try inspect([path, "--mode", mode], within: 30)
        XCTAssertEqual(result.status, 1, result.stderr, file: file, line: line)
        XCTAssertEqual(result.stderr, "error: \(message)\n", file: file, line: line)
        XCTAssertLessThan(elapsed, 5, "the refusal must come before any hashing", file: file, line: line)
    }

    /// 4,000 SEV sections of 4 GiB − 4 KiB from GPA 0 (7.7 hours projected) and 64 TDX
    /// TEMP_MEM sections of 1 GiB each (55 s) were hashed page by page; each is refused now, at
    /// once, naming the first section past what a launch can populate.
    func testSectionsThatWouldTakeHoursAreRefusedInOneLine() throws {
        typealias Section = (UInt32, UInt32, UInt64, UInt64, UInt32, UInt32)
        try assertRefused(
            try image(sev: T.sev(Array(repeating: (0, 0xFFFF_F000, 1), count: 4000))), mode: "snp",
            "cannot compute the SEV-SNP digest: SEV metadata section 0 (GPA 0x0, size 0xfffff000) overlaps the image at 0xffe00000..0xffffffff: a VMM cannot add those pages twice"
        )
        let sixtyFour: [Section] = (1...64).map { (0, 0, UInt64($0) << 30, 1 << 30, 3, 0) }
        try assertRefused(
            try image(tdvf: T.tdvf(sixtyFour)), mode: "tdx",
            "cannot compute the TDX MRTD digest: TDX metadata section 4 brings the memory added before launch to 0x140000000 bytes, more than the 0x100000000 (4 GiB) we accept for a whole image"
        )
        // Four 1 GiB volumes extended from 4 KiB of data each: 6 GiB of extends from a 2 MiB file.
        let volumes: [Section] = (1...4).map { (0, 0x1000, UInt64($0) << 30, 1 << 30, 0, 1) }
        try assertRefused(
            try image(tdvf: T.tdvf(volumes)), mode: "tdx",
            "cannot compute the TDX MRTD digest: TDX metadata section 0 brings the memory extended into MRTD to 0x40000000 bytes, more than the 0x200000-byte image holds: MR.EXTEND measures image bytes"
        )
    }

    /// Issue 20, finding 8: overlapping SEV sections and an empty TDX section were measured,
    /// exit 0, though no VMM can launch them. Each is a one-line refusal naming the section.
    func testOverlappingAndEmptySectionsAreRefused() throws {
        let overlapping = try image(sev: T.sev([(0x80_0000, 0x2000, 1), (0x80_1000, 0x1000, 2)]))
        try assertRefused(
            overlapping, mode: "snp",
            "cannot compute the SEV-SNP digest: SEV metadata section 1 (GPA 0x801000, size 0x1000) overlaps section 0 (GPA 0x800000, size 0x2000): a VMM cannot add a page twice"
        )
        try assertRefused(
            try image(tdvf: T.tdvf([(0, 0, 0x80_0000, 0, 3, 0), (0, 0, 0x90_0000, 0x1000, 2, 0)])), mode: "tdx",
            "cannot compute the TDX MRTD digest: TDX metadata section 0 (TEMP_MEM) has memory size 0: KVM refuses to add an empty region")

        // The full report exits 1 and lists the problem.
        let (report, _) = try inspect([overlapping], within: 30)
        XCTAssertEqual(report.status, 1, report.stderr)
        XCTAssertTrue(report.stdout.contains("SEV metadata section 1 (GPA 0x801000, size 0x1000) overlaps section 0"), report.stdout)
    }

    /// The most a 2 MiB file can ask for and be measured: SNP 2^20 pages (the image and one
    /// SNP_SEC_MEM section filling the rest of the 4 GiB below it) and 4096 VMSAs; TDX the image
    /// extended and 4 GiB added before launch (2^20 TDH.MEM.PAGE.ADD). docs/measurement.md
    /// gives 1.9 s for it in a release build on a 2-core machine; the debug build the tests use
    /// takes a few times that, and the bound here leaves room for a loaded machine.
    func testTheLargestAcceptedTablesFinishWithinTheBound() throws {
        typealias Section = (UInt32, UInt32, UInt64, UInt64, UInt32, UInt32)
        let volume: Section = (0, 0x20_0000, 0xFFE0_0000, 0x20_0000, 0, 1)
        let gigabytes: [Section] = (4...6).map { (0, 0, UInt64($0) << 30, 1 << 30, 3, 0) }
        let rest: Section = (0, 0, 8 << 30, (1 << 30) - 0x20_0000, 3, 0)
        let path = try image(sev: T.sev([(0, 0xFFE0_0000, 1)]), tdvf: T.tdvf([volume] + gigabytes + [rest]))
        let (report, elapsed) = try inspect([path, "--vcpus", "4096", "--json"], within: 120)
        XCTAssertEqual(report.status, 0, report.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((json["digestErrors"] as? [String: String])?.isEmpty, true, "\(json["digestErrors"] ?? "")")
        XCTAssertLessThan(elapsed, 60, "the largest accepted tables must be measured in seconds")
        print("inspect of the largest tables a 2 MiB file may carry: \(elapsed) s")
    }
}
