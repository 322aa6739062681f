import Foundation
import Measurement
import Payload
import XCTest

/// Our own firmware-layout `hello` image, with the footer area FirmwareTables generates from its
/// plan: it must parse like OVMF, and sev-snp-measure must compute the SNP digest we compute.
final class OwnImageDigestTests: XCTestCase {
    /// Builds hello in the firmware layout; the builder writes the tables into the ROM.
    private func helloROM() throws -> [UInt8] {
        let root = try ProjectRoot.locate()
        let builder = try ImageBuilder(toolchain: try Toolchain.locate(), root: root)
        let image = try builder.build(try StubSource.resolve("hello", root: root), layout: .firmware)
        let rom = try XCTUnwrap(image.romBytes())
        XCTAssertEqual(UInt64(rom.count), Layout.romSize)
        // The area is no longer blank: installing twice is refused, as it must be.
        var again = rom
        XCTAssertThrowsError(try FirmwareTables.install(into: &again, plan: image.plan))
        return rom
    }

    func testHelloTablesParseWithoutProblems() throws {
        let image = FirmwareImage(bytes: try helloROM())
        XCTAssertEqual(image.problems, [])
        XCTAssertEqual(image.sevESResetBlock?.rawValue, 0xFFFF_FFE0)
        XCTAssertNoThrow(try TDXMeasurement.mrtd(of: image, order: .interleaved))
    }

    func testHelloSNPDigestMatchesSevSnpMeasure() throws {
        let tool = try ExternalTools.sevSNPMeasure()
        let rom = try helloROM()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-hello-\(UUID()).bin")
        try Data(rom).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let image = FirmwareImage(bytes: rom)
        let signature = try XCTUnwrap(VCPUSignature.named("EPYC-v4"))
        for vcpus in [1, 2] {
            let expected = try ExternalTools.run(
                tool,
                [
                    "--mode", "snp", "--vcpus", "\(vcpus)", "--vcpu-type", "EPYC-v4",
                    "--ovmf", file.path,
                ]
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            let ours = try SNPMeasurement.launchDigest(of: image, options: SNPOptions(vcpus: vcpus, vcpuSignature: signature))
            XCTAssertEqual(ExternalTools.hex(ours), expected, "vcpus \(vcpus)")
        }
    }
}
