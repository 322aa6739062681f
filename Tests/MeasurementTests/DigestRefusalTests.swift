import GuestPhysical
import Measurement
import Payload
import XCTest

/// Each digest says precisely why it cannot be computed, and a broken table only stops the
/// digests that depend on it.
final class DigestRefusalTests: XCTestCase {
    private let signature: UInt32 = 0x0080_0F12

    private func generatedROM() throws -> [UInt8] {
        let plan = PopulationPlan(ranges: [
            PlanRange(name: "zero", range: GPARange(start: 0x10_0000, end: 0x10_2000), kind: .zero, state: .private)
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
            XCTAssertEqual(
                $0 as? MeasurementError,
                .missingStructure(
                    .sevES, .sevESResetBlock,
                    why: "application processors need its start address"))
        }
        // SEV measures the image alone and needs no table.
        XCTAssertNoThrow(try SEVMeasurement.sevDigest(of: image))
    }

    func testVCPUCountOutsideKVMsLimitIsRefused() throws {
        let image = FirmwareImage(bytes: try generatedROM())
        for vcpus in [0, -1, SNPMeasurement.maxVCPUs + 1, 1_000_000_000] {
            XCTAssertThrowsError(try SNPMeasurement.launchDigest(of: image, options: SNPOptions(vcpus: vcpus, vcpuSignature: signature))) {
                XCTAssertEqual($0 as? MeasurementError, .invalidOption(.snp, "--vcpus must be between 1 and 4096 (KVM_MAX_VCPUS), got \(vcpus)"))
            }
            XCTAssertThrowsError(try SEVMeasurement.sevESDigest(of: image, vcpus: vcpus, vcpuSignature: signature)) {
                guard case .invalidOption(.sevES, _)? = $0 as? MeasurementError else { return XCTFail("\($0)") }
            }
        }
        XCTAssertNoThrow(try SNPMeasurement.launchDigest(of: image, options: SNPOptions(vcpus: 4096, vcpuSignature: signature)))
    }

    func testKernelHashesNeedTheirSectionAndArea() throws {
        let rom = try generatedROM()
        let hashes = SEVKernelHashes(kernel: [1], initrd: nil, commandLine: nil)
        let withKernel = SNPOptions(vcpus: 1, vcpuSignature: signature, kernelHashes: hashes)
        // Our images are measured-direct-boot images: the hashes change both digests.
        let image = FirmwareImage(bytes: rom)
        XCTAssertNotEqual(
            try SNPMeasurement.launchDigest(of: image, options: withKernel),
            try SNPMeasurement.launchDigest(of: image, options: SNPOptions(vcpus: 1, vcpuSignature: signature)))
        XCTAssertNotEqual(try SEVMeasurement.sevDigest(of: image, kernelHashes: hashes), try SEVMeasurement.sevDigest(of: image))

        // Retyping the SNP_KERNEL_HASHES section (the last one) leaves SNP nowhere to put them.
        var retyped = rom
        let metadata = try XCTUnwrap(image.sevMetadata)
        XCTAssertEqual(metadata.sections.last?.type, .kernelHashes)
        retyped[metadata.offset + 16 + 12 * (metadata.sections.count - 1) + 8] = 1
        XCTAssertThrowsError(try SNPMeasurement.launchDigest(of: FirmwareImage(bytes: retyped), options: withKernel)) {
            XCTAssertEqual($0 as? MeasurementError, .kernelHashesUnsupported(.snp, why: "its SEV metadata has no SNP_KERNEL_HASHES section"))
        }
        // A hash-table entry naming GPA 0 leaves SEV none.
        var noArea = rom
        let entry = try XCTUnwrap(image.footer?.entry(KnownFirmwareGUID.sevHashTableBlock))
        noArea.replaceSubrange(entry.dataOffset..<(entry.dataOffset + 4), with: [0, 0, 0, 0])
        XCTAssertThrowsError(try SEVMeasurement.sevDigest(of: FirmwareImage(bytes: noArea), kernelHashes: hashes)) {
            XCTAssertEqual($0 as? MeasurementError, .kernelHashesUnsupported(.sev, why: "its SEV hash-table entry names GPA 0, no area"))
        }
    }
}
