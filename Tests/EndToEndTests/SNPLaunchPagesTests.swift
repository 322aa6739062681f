import Foundation
import HostRunner
import Payload
import TestSupport
import XCTest

/// The SNP launch pages the runner fills, checked from outside the guest: the run's launch
/// digest (computed from the pages as read back from guest memory) equals sev-snp-measure's,
/// live, for the same image, vCPUs and direct-boot inputs.
final class SNPLaunchPagesTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-launch-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func enlighten() throws -> String {
        let found = EnlightenExecutable.path(besideBundleOf: Self.self)
        return try XCTUnwrap(found.path, "the enlighten executable is not next to the tests (looked in \(found.lookedIn))")
    }

    func testRunDigestOfThePopulatedPagesEqualsSevSnpMeasure() throws {
        _ = try KVMHost.system()
        // The reference tool is never a reason to skip: scripts/test.sh installs it, and locate()
        // installs it itself where it can; without it the comparison fails, saying why.
        let tool = try SevSnpMeasure.locate()
        let rom = try XCTUnwrap(try ImageWriter(directory: folder.path).write(try KVMHost.build("snp-launch-pages", layout: .firmware)).rom)
        let kernel = folder.appendingPathComponent("bzImage"), initrd = folder.appendingPathComponent("initrd")
        try Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }).write(to: kernel)
        try Data((0..<9_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }).write(to: initrd)
        let boots: [[String]] = [[], ["--kernel", kernel.path, "--initrd", initrd.path, "--append", "console=ttyS0 quiet"]]
        for boot in boots {
            for vcpus in [1, 2] {
                let run = try Command.execute(try enlighten(), ["run", rom, "--platform", "ghcb", "--vcpus", "\(vcpus)", "--json"] + boot)
                XCTAssertEqual(run.status, 0, run.stderr + String(run.stdout.prefix(3000)))
                let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
                let firmware = try XCTUnwrap(json["firmware"] as? [String: Any])
                let types = try XCTUnwrap(firmware["launchPages"] as? [[String: String]]).map { $0["type"] ?? "" }
                XCTAssertEqual(types, ["normal", "zero", "secrets", "cpuid", boot.isEmpty ? "zero" : "normal"])
                let expected = try Command.run(tool, ["--mode", "snp", "--vcpus", "\(vcpus)", "--vcpu-type", "EPYC-v4", "--ovmf", rom] + boot)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                XCTAssertEqual(firmware["snpLaunchDigestFromPopulation"] as? String, expected, "\(vcpus) vCPUs \(boot)")
                XCTAssertEqual(firmware["snpDigestsAgree"] as? Bool, true)
            }
        }
    }

    func testKernelWithoutAnSNPLaunchIsRefused() throws {
        _ = try KVMHost.system()
        let kernel = folder.appendingPathComponent("bzImage")
        try Data([1, 2, 3]).write(to: kernel)
        let run = try Command.execute(try enlighten(), ["run", "hello", "--platform", "kvm", "--kernel", kernel.path])
        XCTAssertEqual(run.status, 2, run.stdout + run.stderr)
        XCTAssertTrue(run.stderr.contains("--kernel"), run.stderr)
    }
}
