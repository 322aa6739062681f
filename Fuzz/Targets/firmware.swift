import Measurement
import Payload

/// The firmware-table parsers and everything `enlighten inspect` derives from them (the
/// population a VMM performs, the SEV-ES and SEV-SNP digests, the TDX MRTD) on images the
/// input grows: the first two bytes give how many 4 KiB pages of zeros go in front of the
/// rest, so the tables at the end sit in images from a few bytes to 128 KiB and more. Oracles: the
/// image ends at 4 GiB (base + size); a footer table is reported only if the footer GUID
/// (96b582de-1fb2-45f7-baea-a366c55a082d, OVMF ResetVector) sits at 4 GiB - 0x30 with a
/// length that fits; a population step past 2^64 (TDX) or 4 GiB (SNP) only with the problem
/// that says so; every refusal is described.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFirmware(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let pages = Int(input.u16() % 32)
    let tail = input.rest()
    let bytes = [UInt8](repeating: 0, count: pages * 4096) + tail
    let image = FirmwareImage(bytes: bytes)
    expect(image.base + UInt64(bytes.count) == FirmwareImage.fourGiB, "the image does not end at 4 GiB")
    for problem in image.problems { expect(!problem.description.isEmpty, "a firmware problem without words") }
    if image.footer != nil {
        // The footer: GUID at 4 GiB - 0x30 (bytes count - 0x30), its 16-bit length just before.
        let footerGUID: [UInt8] = [0xDE, 0x82, 0xB5, 0x96, 0xB2, 0x1F, 0xF7, 0x45, 0xBA, 0xEA, 0xA3, 0x66, 0xC5, 0x5A, 0x08, 0x2D]
        expect(bytes.count >= 0x30 && Array(bytes[(bytes.count - 0x30)..<(bytes.count - 0x20)]) == footerGUID, "a footer table without the footer GUID")
        let length = Int(bytes[bytes.count - 0x32]) | Int(bytes[bytes.count - 0x31]) << 8
        expect(length <= bytes.count - 0x20, "a footer table longer than the image")
    }
    // The population lists every section the tables name, as inspect prints it; one a VMM
    // could not carry out must come with the problem that says so. TDVF sections carry
    // 64-bit GPAs anywhere in the TD's space (TD_HOB and TempMem live in RAM), so a TDX step
    // is wrong only when it wraps past 2^64; SEV metadata sections are 32-bit GPA/size pairs
    // (OVMF ResetVector SEV_METADATA), so an SNP step is wrong past 4 GiB.
    let outsideFlagged = image.problems.contains { if case .tdxSectionOutsideAddressSpace = $0 { true } else { false } }
    for step in FirmwarePopulation.snp(image) + FirmwarePopulation.tdx(image) {
        let (end, overflow) = step.gpa.addingReportingOverflow(step.size)
        if step.platform == .tdx, overflow {
            expect(outsideFlagged, "a TDX population step past 2^64 with no problem reported: \(step)")
        }
        if step.platform == .snp, overflow || end > FirmwareImage.fourGiB {
            expect(!image.problems.isEmpty, "an SNP population step past 4 GiB with no problem reported: \(step)")
        }
    }
    // The SNP digest folds one PAGE_INFO per 4 KiB page the metadata names (up to 4 GiB of
    // them, ~3 s per GiB here): digest only images whose SNP steps name at most 16 MiB, so the
    // fuzzer spends its time on the tables rather than on SHA-384.
    let snpPages = FirmwarePopulation.snp(image).reduce(UInt64(0)) { $0 &+ $1.size / 4096 }
    if snpPages <= 4096 {
        do { _ = try SNPMeasurement.launchDigest(of: image, options: SNPOptions(vcpus: 1, vcpuSignature: 0x00A0_0F11)) } catch {
            expect(!error.description.isEmpty, "an SNP digest refusal without words")
        }
    }
    do { _ = try SEVMeasurement.sevESDigest(of: image, vcpus: 1, vcpuSignature: 0x00A0_0F11) } catch {
        expect(!error.description.isEmpty, "an SEV-ES digest refusal without words")
    }
    do { _ = try TDXMeasurement.mrtd(of: image, order: .interleaved) } catch {
        expect(!error.description.isEmpty, "an MRTD refusal without words")
    }
    return 0
}
