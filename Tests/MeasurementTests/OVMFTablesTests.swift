import Measurement
import Payload
import XCTest

/// Debian's OVMF.fd (downloaded at test time): the tables edk2's ResetVectorVtf0.asm,
/// OvmfSevMetadata.asm and IntelTdxMetadata.asm lay out, as issue 6's acceptance counts them.
final class OVMFTablesTests: XCTestCase {
    func testFooterCarriesTheEdk2Entries() throws {
        let bytes = try ExternalTools.ovmfBytes()
        let image = FirmwareImage(bytes: bytes)
        XCTAssertEqual(image.problems, [])
        let footer = try XCTUnwrap(image.footer)
        // The GUIDs as written in edk2's ResetVectorVtf0.asm comments.
        let expected: Set<String> = [
            "00f771de-1a7e-4fcb-890e-68c77e2fb44e", "4c2eb361-7d9b-4cc3-8081-127c90d3d294",
            "7255371f-3a3b-4b04-927b-1da6efa8d454", "dc886566-984a-4798-a75e-5585a7bf67cc",
            "e47a6535-984a-4798-865e-4685a7bf8ec2",
        ]
        XCTAssertEqual(Set(footer.entries.map(\.guid.description)), expected)
        XCTAssertFalse(footer.entries.contains { $0.name == "unknown" })
        // The table ends where the AP entry begins, 32 bytes before the end of the image.
        XCTAssertEqual(footer.footerOffset + FooterTable.entryHeaderSize, bytes.count - 32)
    }

    func testMetadataHasFiveSEVAndSixTDVFSections() throws {
        let bytes = try ExternalTools.ovmfBytes()
        let image = FirmwareImage(bytes: bytes)
        let sev = try XCTUnwrap(image.sevMetadata)
        XCTAssertEqual(sev.sections.count, 5)
        XCTAssertEqual(Set(sev.sections.map(\.type.description)), ["SNP_SEC_MEM", "SNP_SECRETS", "CPUID"])
        let tdx = try XCTUnwrap(image.tdxMetadata)
        XCTAssertEqual(tdx.sections.count, 6)
        // The TDVF GUID precedes the descriptor (IntelTdxMetadata.asm).
        XCTAssertEqual(Array(bytes[(tdx.offset - 16)..<tdx.offset]), KnownFirmwareGUID.tdxMetadata.bytes)
        let bfv = try XCTUnwrap(tdx.sections.first { $0.type == .bfv })
        XCTAssertTrue(bfv.attributes.contains(.mrExtend))
        XCTAssertEqual(bfv.memoryAddress + bfv.memorySize, FirmwareImage.fourGiB, "the code volume ends at 4 GiB")
        let cfv = try XCTUnwrap(tdx.sections.first { $0.type == .cfv })
        XCTAssertFalse(cfv.attributes.contains(.mrExtend), "the variable store is not measured")
        XCTAssertEqual(tdx.sections.filter { $0.type == .tdHob }.count, 1)
    }

    func testMRTDOrdersDifferAndArePopulatedFromTheImage() throws {
        let original = try ExternalTools.ovmfBytes()
        let image = FirmwareImage(bytes: original)
        let interleaved = try TDXMeasurement.mrtd(of: image, order: .interleaved)
        let twoPass = try TDXMeasurement.mrtd(of: image, order: .twoPass)
        XCTAssertEqual(interleaved.count, 48)
        XCTAssertNotEqual(interleaved, twoPass)
        // Changing a byte of the measured BFV changes MRTD; changing the CFV (not extended) does not.
        let tdx = try XCTUnwrap(image.tdxMetadata)
        let bfv = try XCTUnwrap(tdx.sections.first { $0.type == .bfv })
        let cfv = try XCTUnwrap(tdx.sections.first { $0.type == .cfv })
        var bytes = original
        bytes[Int(bfv.dataOffset) + 0x100] ^= 0xFF
        XCTAssertNotEqual(try TDXMeasurement.mrtd(of: FirmwareImage(bytes: bytes), order: .interleaved), interleaved)
        bytes = original
        bytes[Int(cfv.dataOffset) + 0x100] ^= 0xFF
        XCTAssertEqual(try TDXMeasurement.mrtd(of: FirmwareImage(bytes: bytes), order: .interleaved), interleaved)
    }

    func testCodeOnlyVolumeReportsSectionsPastTheFile() throws {
        // Keep only the top 1.875 MiB, as a split OVMF_CODE volume would be: the TDVF offsets
        // (relative to the combined image) now run past the file.
        let full = try ExternalTools.ovmfBytes()
        let code = Array(full.suffix(full.count - 0x2_0000))
        let image = FirmwareImage(bytes: code)
        XCTAssertNotNil(image.tdxMetadata)
        XCTAssertTrue(
            image.problems.contains { if case .tdxSectionDataPastFile = $0 { return true } else { return false } },
            "\(image.problems)")
        XCTAssertThrowsError(try TDXMeasurement.mrtd(of: image, order: .interleaved)) { error in
            guard case .brokenStructure(.mrtd, .tdxSectionDataPastFile) = error as? MeasurementError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertTrue("\(error)".contains("TDX MRTD"), "\(error)")
        }
        // The SEV tables do not depend on the TDX table: the SNP digest is still computable.
        XCTAssertNoThrow(try SNPMeasurement.launchDigest(of: image, options: SNPOptions(vcpus: 1, vcpuSignature: 0x0080_0F12)))
    }
}
