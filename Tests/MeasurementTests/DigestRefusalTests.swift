import Measurement
import Payload
import XCTest

/// Each digest says precisely why it cannot be computed, and a broken table only stops the
/// digests that depend on it.
final class DigestRefusalTests: XCTestCase {
    private let signature: UInt32 = 0x0080_0F12

    private func generatedROM() throws -> [UInt8] {
        let plan = PopulationPlan(ranges: [
            PlanRange(name: "zero", range: GPARange(start: 0x10_0000, end: 0x10_2000), kind: .zero, state: .private),
        ])
        var rom = [UInt8](repeating: 0x90, count: 0x20_0000)
        let area = try FirmwareTables.build(plan: plan, romBase: 0xFFE0_0000, romSize: 0x20_0000)
        rom.replaceSubrange((rom.count - 0x800)..<(rom.count - 0x20), with: area)
        return rom
    }

    func testUnknownSEVSectionTypeStopsOnlyTheSNPDigest() throws {
        var rom = try generatedROM()
        let offset = try XCTUnwrap(FirmwareImage(bytes: rom).sevMetadata?.offset)
        rom[offset + 16 + 8] = 0x99 // first section's type
        let image = FirmwareImage(bytes: rom)
        XCTAssertEqual(image.problems, [.unknownSEVSectionType(index: 0, type: 0x99)])
        XCTAssertThrowsError(try SNPMeasurement.launchDigest(of: image, options: SNPOptions(vcpus: 1, vcpuSignature: signature))) {
            XCTAssertEqual($0 as? MeasurementError, .brokenStructure(.snp, .unknownSEVSectionType(index: 0, type: 0x99)))
            XCTAssertEqual("\($0)", "cannot compute the SEV-SNP digest: SEV metadata section 0 has unknown type 0x99")
        }
        XCTAssertNoThrow(try TDXMeasurement.mrtd(of: image, order: .interleaved))
        XCTAssertNoThrow(try SEVMeasurement.sevESDigest(of: image, vcpus: 2, vcpuSignature: signature))
    }

    func testImageWithoutFooter() {
        let image = FirmwareImage(bytes: [UInt8](repeating: 0, count: 0x1_0000))
        XCTAssertThrowsError(try TDXMeasurement.mrtd(of: image, order: .twoPass)) {
            guard case .brokenStructure(.mrtd, .noFooterTable)? = $0 as? MeasurementError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try SEVMeasurement.sevESDigest(of: image, vcpus: 2, vcpuSignature: signature)) {
            XCTAssertEqual($0 as? MeasurementError, .missingStructure(.sevES, .sevESResetBlock,
                                                                     why: "application processors need its start address"))
        }
        // SEV measures the image alone and needs no table.
        XCTAssertNoThrow(try SEVMeasurement.sevDigest(of: image))
    }

    func testInvalidOptionsAndMissingKernelHashArea() throws {
        let image = FirmwareImage(bytes: try generatedROM())
        XCTAssertThrowsError(try SNPMeasurement.launchDigest(of: image, options: SNPOptions(vcpus: 0, vcpuSignature: signature))) {
            XCTAssertEqual($0 as? MeasurementError, .invalidOption(.snp, "--vcpus must be at least 1, got 0"))
        }
        let hashes = SEVKernelHashes(kernel: [1], initrd: nil, commandLine: nil)
        XCTAssertThrowsError(try SNPMeasurement.launchDigest(
            of: image, options: SNPOptions(vcpus: 1, vcpuSignature: signature, kernelHashes: hashes))) {
            guard case .missingStructure(.snp, .sevMetadata, _)? = $0 as? MeasurementError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try SEVMeasurement.sevDigest(of: image, kernelHashes: hashes)) {
            guard case .missingStructure(.sev, .sevHashTableBlock, _)? = $0 as? MeasurementError else { return XCTFail("\($0)") }
        }
    }
}
