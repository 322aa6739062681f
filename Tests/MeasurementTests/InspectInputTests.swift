import Foundation
import Payload
import TestSupport
import XCTest

/// Bad input to `enlighten inspect`: refused with one line and exit 2, before any work.
final class InspectInputTests: XCTestCase {
    private func enlighten() throws -> String {
        let found = EnlightenExecutable.path(besideBundleOf: Self.self)
        return try XCTUnwrap(found.path, "the enlighten executable is not next to the tests (looked in \(found.lookedIn))")
    }

    /// A sparse file of `size` bytes (ftruncate), removed when the test ends.
    private func sparseFile(size: off_t) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-big-\(UUID()).fd").path
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        XCTAssertEqual(ftruncate(fd, size), 0, String(cString: strerror(errno)))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testFileLargerThanFourGiBIsRefusedBeforeReading() throws {
        let path = try sparseFile(size: off_t(FirmwareImage.fourGiB) + 4096)
        // The reader refuses from fstat alone.
        XCTAssertThrowsError(try FirmwareFile.read(path)) {
            XCTAssertEqual($0 as? FirmwareFile.ReadError, .tooLarge(path: path, size: FirmwareImage.fourGiB + 4096))
        }
        // And the command exits 2 at once, without reading 4 GiB (that took minutes and 8 GB).
        let started = Date()
        let result = try Command.execute(try enlighten(), ["inspect", path])
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stderr, "error: \(path) is 4294971392 bytes; a firmware volume ends at 4 GiB − 1 and so is at most 4 GiB (4294967296 bytes)\n")
    }

    func testVCPUCountIsBoundedAtParseTime() throws {
        let path = try sparseFile(size: 0x20_0000)
        for vcpus in ["1000000000", "4097", "0", "-1"] {
            let started = Date()
            let result = try Command.execute(try enlighten(), ["inspect", path, "--vcpus", vcpus])
            XCTAssertLessThan(Date().timeIntervalSince(started), 5, "--vcpus \(vcpus) must not spin")
            XCTAssertEqual(result.status, 2, "--vcpus \(vcpus): \(result.stderr)")
            XCTAssertEqual(result.stderr, "error: --vcpus must be between 1 and 4096 (KVM_MAX_VCPUS, the most an SNP or TDX guest can have), got \(vcpus)\n")
        }
    }

    func testAnELFIsNamedAndTheROMSuggested() throws {
        let result = try Command.execute(try enlighten(), ["inspect", try enlighten()])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("is an ELF; pass NAME.firmware.bin"), result.stderr)
        XCTAssertEqual(result.stderr.filter { $0 == "\n" }.count, 1)
    }

    func testMixedVCPUOptionsAndOrphanDirectBootOptionsAreRefused() throws {
        let path = try sparseFile(size: 0x20_0000)
        for arguments in [["--vcpu-type", "EPYC-v4", "--vcpu-sig", "0x800f12"], ["--initrd", "x"], ["--append", "quiet"],
                          ["--vmm-type", "xen"], ["--vcpu-family", "25"], ["--vcpu-sig", "0x1_0000_0000"], ["--dump-vmsa", "d", "--mode", "sev"]] {
            let result = try Command.execute(try enlighten(), ["inspect", path] + arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
        }
    }
}
