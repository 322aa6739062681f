import Foundation
import HostRunner
import Payload
import XCTest

/// The firmware layout is a real firmware image: QEMU boots it with -bios, shows its log on
/// the debug console (port 0xE9) and ends with its exit code through isa-debug-exit (0xF4).
final class QEMUBootTests: XCTestCase {
    func testQEMUBootsTheFirmwareLayoutHello() throws {
        // The reference tool is installed by `bash scripts/test.sh`: its absence fails, saying
        // how to fix it, rather than skipping the comparison.
        guard let qemu = Self.find("qemu-system-x86_64") else {
            return XCTFail("qemu-system-x86_64 is not installed: run `bash scripts/test.sh` or apt-get install --no-install-recommends qemu-system-x86")
        }
        let image = try KVMHost.build("hello", layout: .firmware)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-qemu-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let written = try ImageWriter(directory: folder.path).write(image)
        let console = folder.appendingPathComponent("e9.txt")

        let accelerator = FileManager.default.isReadableFile(atPath: "/dev/kvm") ? ["-enable-kvm"] : ["-accel", "tcg"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: qemu)
        process.arguments =
            accelerator + [
                "-bios", try XCTUnwrap(written.rom), "-display", "none", "-nodefaults", "-no-reboot",
                "-debugcon", "file:\(console.path)", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            ]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            return XCTFail("QEMU did not exit within 30 s")
        }
        // isa-debug-exit: QEMU's status is (code << 1) | 1, so the guest's 0 is 1.
        XCTAssertEqual(process.terminationStatus, 1)

        // The expected text, from first principles: hello.asm's line, then the runtime's text
        // rendering of the checksum record for the payload (2048 dwords 0x454E0000 + i).
        let payload = try XCTUnwrap(image.plan.ranges.first { $0.name == "payload.measured" })
        let bytes = (0..<2048).flatMap { withUnsafeBytes(of: (UInt32(0x454E_0000) + UInt32($0)).littleEndian, Array.init) }
        let crc = String(CRC32C.checksum(bytes), radix: 16)
        let expected = "hello from enlighten\nCHECKSUM payload gpa=0x\(String(payload.range.start, radix: 16)) length=0x2000 crc32c=0x\(crc)\n"
        XCTAssertEqual(try String(contentsOf: console, encoding: .utf8), expected)
    }

    private static func find(_ tool: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
