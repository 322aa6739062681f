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

    /// A new folder, removed when the test ends.
    private func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-inspect-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
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

    /// Issue 20: a FIFO with no writer blocked `inspect` in open(2) forever, and `--kernel
    /// /dev/zero` (or `--initrd`) hashed forever. Special files are refused before they are
    /// opened for reading, each in one line naming the file and what it is.
    func testSpecialFilesAreRefusedWithoutBlocking() throws {
        let folder = try temporaryFolder()
        let fifo = folder + "/fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0, String(cString: strerror(errno)))
        let image = try sparseFile(size: 0x20_0000)
        let cases: [([String], String)] = [
            ([fifo], "\(fifo) is a FIFO, not a regular file: firmware volumes are read from regular files only"),
            ([folder], "\(folder) is a directory, not a regular file: firmware volumes are read from regular files only"),
            (["/dev/zero"], "/dev/zero is a character device, not a regular file: firmware volumes are read from regular files only"),
            (
                [image, "--kernel", "/dev/zero"],
                "cannot read /dev/zero: it is a character device, not a regular file; --kernel and --initrd take regular files"
            ),
            (
                [image, "--kernel", image, "--initrd", fifo],
                "cannot read \(fifo): it is a FIFO, not a regular file; --kernel and --initrd take regular files"
            ),
            ([image, "--kernel", folder], "cannot read \(folder): it is a directory, not a regular file; --kernel and --initrd take regular files"),
        ]
        for (arguments, message) in cases {
            let result = try Command.execute(try enlighten(), ["inspect"] + arguments, timeout: 20)
            XCTAssertFalse(result.timedOut, "inspect \(arguments) was still running after 20 s")
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr, "error: \(message)\n")
        }
    }

    /// A kernel or initrd larger than a direct boot can load (4 GiB) is refused from its size.
    func testKernelAndInitrdAreBoundedBySize() throws {
        let image = try sparseFile(size: 0x20_0000)
        let huge = try sparseFile(size: off_t(1) << 32 + 4096)
        for option in ["--kernel", "--initrd"] {
            let arguments = option == "--kernel" ? ["--kernel", huge] : ["--kernel", image, "--initrd", huge]
            let started = Date()
            let result = try Command.execute(try enlighten(), ["inspect", image] + arguments, timeout: 20)
            XCTAssertLessThan(Date().timeIntervalSince(started), 5, "\(option) must be refused before hashing")
            XCTAssertEqual(result.status, 2, result.stderr)
            XCTAssertEqual(
                result.stderr, "error: cannot read \(huge): it is 4294971392 bytes, more than the 4294967296 (4 GiB) a direct boot loads below 4 GiB\n")
        }
    }

    /// Issue 20: `inspect` read the whole file: a 4 GiB volume cost 4.2 GB of memory and aborted
    /// under a 4 GB address-space limit. It is read piece by piece now, so a limit of half the
    /// file is enough; the SEV digest is SHA-256 of the 4 GiB of zeros (coreutils sha256sum).
    func testAFourGiBVolumeIsHashedWithinHalfItsSizeOfAddressSpace() throws {
        let path = try sparseFile(size: off_t(FirmwareImage.fourGiB))
        let started = Date()
        let result = try Command.execute(
            "/bin/sh",
            [
                "-c", "ulimit -v 2097152 && exec \"$0\" \"$@\"",
                try enlighten(), "inspect", path, "--mode", "sev",
            ], timeout: 300)
        XCTAssertFalse(result.timedOut, "inspect of a 4 GiB volume was still running after 300 s")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "8479e43911dc45e89f934fe48d01297e16f51d17aa561d4d1c216b1ae0fcddca\n")
        print("inspect --mode sev of a 4 GiB volume under a 2 GiB address-space limit: \(Date().timeIntervalSince(started)) s")
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
        for arguments in [
            ["--vcpu-type", "EPYC-v4", "--vcpu-sig", "0x800f12"], ["--initrd", "x"], ["--append", "quiet"],
            ["--vmm-type", "xen"], ["--vcpu-family", "25"], ["--vcpu-sig", "0x1_0000_0000"], ["--dump-vmsa", "d", "--mode", "sev"],
        ] {
            let result = try Command.execute(try enlighten(), ["inspect", path] + arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
        }
    }
}
