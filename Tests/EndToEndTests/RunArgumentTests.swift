import Foundation
import Payload
import TestSupport
import XCTest

/// `enlighten run` on files: our firmware ROM runs (from the ELF beside it), anything else is
/// named with what to do instead, exit 2.
final class RunArgumentTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-run-args-\(UUID())")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func enlighten(_ arguments: [String]) throws -> Command.Result {
        let found = EnlightenExecutable.path(besideBundleOf: Self.self)
        let path = try XCTUnwrap(found.path, "the enlighten executable is not next to the tests (looked in \(found.lookedIn))")
        return try Command.execute(path, arguments)
    }

    private func builtHello() throws -> ImageWriter.Written {
        try ImageWriter(directory: folder.path).write(try KVMHost.build("hello", layout: .firmware))
    }

    func testOurFirmwareROMRunsUnderGHCB() throws {
        _ = try KVMHost.system()
        let rom = try XCTUnwrap(try builtHello().rom)
        XCTAssertTrue(rom.hasSuffix("hello.firmware.bin"))
        let result = try enlighten(["run", rom, "--platform", "ghcb"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("PASS hello (firmware)"), result.stdout)
    }

    /// An OVMF volume is run from reset as a firmware volume (docs/firmware.md), no longer
    /// refused: `--until` ends it, passing, at the milestone.
    func testOVMFRunsAsAFirmwareVolume() throws {
        let ovmf = "/usr/share/ovmf/OVMF.fd"
        // scripts/test.sh installs Debian's ovmf; without it this is a failure, not a skip.
        guard FileManager.default.fileExists(atPath: ovmf) else {
            return XCTFail("\(ovmf) is not installed: apt-get install --no-install-recommends ovmf (scripts/test.sh does)")
        }
        _ = try KVMHost.system()
        let result = try enlighten(["run", ovmf, "--platform", "kvm", "--until", "memory-prepared"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("PASS OVMF.fd (firmware)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("stopped at memory-prepared, as --until asked"), result.stdout)
    }

    func testROMWithoutOrNotMatchingItsELFIsRefused() throws {
        let written = try builtHello()
        let rom = try XCTUnwrap(written.rom)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: rom)))
        bytes[0x100] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: rom))
        let edited = try enlighten(["run", rom])
        XCTAssertEqual(edited.status, 2)
        XCTAssertTrue(edited.stderr.contains("is not the ROM \(written.elf) links to"), edited.stderr)

        try FileManager.default.removeItem(atPath: written.elf)
        let orphan = try enlighten(["run", rom])
        XCTAssertEqual(orphan.status, 2)
        XCTAssertTrue(orphan.stderr.contains("\(written.elf), which `enlighten build` writes beside it"), orphan.stderr)

        let random = folder.appendingPathComponent("random.bin")
        try Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: random)
        let unknown = try enlighten(["run", random.path])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("is neither an ELF nor a firmware ROM"), unknown.stderr)
    }
}
