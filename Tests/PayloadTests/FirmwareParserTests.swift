import TestSupport
import XCTest

@testable import Payload

/// The footer and metadata parsers on hand-assembled images: well-formed tables read back as
/// written, and every malformation yields its own precise error.
final class FirmwareParserTests: XCTestCase {
    typealias T = FirmwareTestImage

    /// A 64 KiB image with SEV metadata at 0xF000, TDX metadata at 0xF100 and a reset block.
    private func wellFormed(sev: [UInt8]? = nil, tdvf: [UInt8]? = nil) -> FirmwareTestImage {
        var image = T()
        image.put(sev ?? T.sev([(0x80_0000, 0x9000, 1), (0x80_D000, 0x1000, 2), (0x80_E000, 0x1000, 3)]), at: 0xF000)
        image.put(tdvf ?? T.tdvf([(0, 0x1_0000, 0xFFFF_0000, 0x1_0000, 0, 1), (0, 0, 0x80_9000, 0x2000, 2, 0)]), at: 0xF100)
        image.writeTable([
            (T.tdxMetadataGUID, T.le32(0x1_0000 - 0xF100)),
            (T.sevMetadataGUID, T.le32(0x1_0000 - 0xF000)),
            ("12345678-9abc-def0-1234-56789abcdef0", [1, 2, 3]),
            (T.resetBlockGUID, T.le32(0x0080_B004)),
        ])
        return image
    }

    func testGUIDTextRoundTripsAndMatchesTheMixedEndianBytes() throws {
        let guid = try XCTUnwrap(FirmwareGUID("96b582de-1fb2-45f7-baea-a366c55a082d"))
        XCTAssertEqual(
            guid.bytes,
            [
                0xDE, 0x82, 0xB5, 0x96, 0xB2, 0x1F, 0xF7, 0x45,
                0xBA, 0xEA, 0xA3, 0x66, 0xC5, 0x5A, 0x08, 0x2D,
            ]) // ResetVectorVtf0.asm's DB lines
        XCTAssertEqual(guid.description, "96b582de-1fb2-45f7-baea-a366c55a082d")
        XCTAssertNil(FirmwareGUID("96b582de-1fb2-45f7-baea-a366c55a082"))
        XCTAssertNil(FirmwareGUID("96b582de-1fb2-45f7-baea-a366c55a08zz"))
        XCTAssertEqual(
            KnownFirmwareGUID.tdxMetadata.bytes,
            [
                0xF3, 0xF9, 0xEA, 0xE9, 0x8E, 0x16, 0xD5, 0x44,
                0xA8, 0xEB, 0x7F, 0x4D, 0x87, 0x38, 0xF6, 0xAE,
            ])
    }

    func testWellFormedTablesReadBackAsWritten() throws {
        let image = FirmwareImage(bytes: wellFormed().bytes)
        XCTAssertEqual(image.problems, [])
        let footer = try XCTUnwrap(image.footer)
        XCTAssertEqual(footer.entries.map(\.name), ["sevESResetBlock", "unknown", "sevMetadataOffset", "tdxMetadataOffset"])
        XCTAssertEqual(footer.entries[1].data, [1, 2, 3])
        XCTAssertEqual(footer.entries[1].guid.description, "12345678-9abc-def0-1234-56789abcdef0")
        XCTAssertEqual(
            image.sevMetadata?.sections,
            [
                SEVSection(gpa: 0x80_0000, size: 0x9000, type: .snpSecureMemory),
                SEVSection(gpa: 0x80_D000, size: 0x1000, type: .snpSecrets),
                SEVSection(gpa: 0x80_E000, size: 0x1000, type: .cpuid),
            ])
        XCTAssertEqual(image.tdxMetadata?.sections.map(\.type), [.bfv, .tdHob])
        XCTAssertEqual(image.tdxMetadata?.sections.first?.attributes, .mrExtend)
        XCTAssertEqual(image.sevESResetBlock?.csBase, 0x0080_0000)
        XCTAssertEqual(image.sevESResetBlock?.ip, 0xB004)
        XCTAssertEqual(image.base, 0xFFFF_0000)
    }

    func testTruncatedImage() {
        XCTAssertEqual(FirmwareImage(bytes: [1, 2, 3]).problems.last, .imageTooSmall(size: 3, needed: 50))
    }

    func testMissingFooter() throws {
        let problems = FirmwareImage(bytes: T().bytes).problems
        XCTAssertEqual(problems.count, 1)
        guard case .noFooterTable(_, let at) = problems.first else { return XCTFail("\(problems)") }
        XCTAssertEqual(at, 0x1_0000 - 32 - 16)
        XCTAssertTrue("\(problems[0])".contains("96b582de-1fb2-45f7-baea-a366c55a082d"))
    }

    func testFooterLengths() {
        var short = T()
        short.writeTable([], footerLength: 5)
        XCTAssertEqual(FirmwareImage(bytes: short.bytes).problems, [.footerLengthTooSmall(length: 5, at: 0x1_0000 - 50)])

        var past = T(size: 0x1000)
        past.writeTable([], footerLength: 0x2000)
        XCTAssertEqual(FirmwareImage(bytes: past.bytes).problems, [.footerLengthPastImage(length: 0x2000, available: 0x1000 - 50)])

        var leftover = T()
        leftover.writeTable([(T.resetBlockGUID, T.le32(0))], footerLength: 18 + 22 + 5)
        XCTAssertEqual(FirmwareImage(bytes: leftover.bytes).problems, [.footerLeftoverBytes(count: 5, at: 0x1_0000 - 50 - 27)])
    }

    func testEntryLengths() throws {
        var image = T()
        image.writeTable([(T.resetBlockGUID, T.le32(0))])
        var bytes = image.bytes
        let trailer = 0x1_0000 - 50 - 18
        bytes[trailer] = 3 // entry length below its own 18-byte header
        guard case .entryLengthTooSmall(0, _, 3, trailer)? = FirmwareImage(bytes: bytes).problems.first else {
            return XCTFail("\(FirmwareImage(bytes: bytes).problems)")
        }
        bytes[trailer] = 40 // longer than the 22 bytes left in the table
        guard case .entryLengthPastTable(0, _, 40, 22, trailer)? = FirmwareImage(bytes: bytes).problems.first else {
            return XCTFail("\(FirmwareImage(bytes: bytes).problems)")
        }
    }

    func testShortEntryData() {
        var image = T()
        image.writeTable([(T.sevMetadataGUID, [1, 2])])
        XCTAssertEqual(
            FirmwareImage(bytes: image.bytes).problems,
            [.entryDataTooShort(structure: .sevMetadata, length: 2, needed: 4)])
    }

    func testMetadataOffsetsOutsideTheFile() {
        var image = T()
        image.writeTable([(T.sevMetadataGUID, T.le32(0x2_0000)), (T.tdxMetadataGUID, T.le32(0))])
        XCTAssertEqual(
            FirmwareImage(bytes: image.bytes).problems,
            [
                .metadataOffsetOutsideFile(structure: .sevMetadata, offsetFromEnd: 0x2_0000, fileSize: 0x1_0000),
                .metadataOffsetOutsideFile(structure: .tdxMetadata, offsetFromEnd: 0, fileSize: 0x1_0000),
            ])
    }

    func testSEVHeaderErrors() {
        var badSignature = T.sev([])
        badSignature[0] = UInt8(ascii: "X")
        XCTAssertEqual(
            FirmwareImage(bytes: wellFormed(sev: badSignature).bytes).problems,
            [.badSignature(structure: .sevMetadata, found: Array("XSEV".utf8), expected: "ASEV", at: 0xF000)])
        XCTAssertEqual(
            FirmwareImage(bytes: wellFormed(sev: T.sev([], version: 2)).bytes).problems,
            [.unsupportedVersion(structure: .sevMetadata, version: 2)])
        XCTAssertEqual(
            FirmwareImage(bytes: wellFormed(sev: T.sev([(0, 0x1000, 1)], length: 20)).bytes).problems,
            [.metadataLengthMismatch(structure: .sevMetadata, length: 20, expected: 28)])
        XCTAssertEqual(
            FirmwareImage(bytes: wellFormed(sev: T.sev([], length: 0x2000)).bytes).problems,
            [.metadataPastFile(structure: .sevMetadata, at: 0xF000, length: 0x2000, fileSize: 0x1_0000)])
    }

    func testSEVSectionProblems() {
        let sev = T.sev([(0x1000, 0x1000, 0x77), (0x3800, 0x1000, 1), (0xFFFF_F000, 0x2000, 1)])
        XCTAssertEqual(
            FirmwareImage(bytes: wellFormed(sev: sev).bytes).problems,
            [
                .unknownSEVSectionType(index: 0, type: 0x77),
                .sevSectionMisaligned(index: 1, gpa: 0x3800, size: 0x1000),
                .sevSectionPastFourGiB(index: 2, gpa: 0xFFFF_F000, size: 0x2000),
            ])
    }

    func testTDXHeaderAndSectionProblems() {
        XCTAssertEqual(
            FirmwareImage(bytes: wellFormed(tdvf: T.tdvf([(0, 0, 0x1000, 0x1000, 3, 0)], length: 64)).bytes).problems,
            [.metadataLengthMismatch(structure: .tdxMetadata, length: 64, expected: 48)])
        let tdvf = T.tdvf([
            (0xF000, 0x2000, 0xFFFF_0000, 0x2000, 0, 1), // data past the 64 KiB file
            (0, 0, 0x80_0800, 0x1000, 3, 0), // misaligned
            (0, 0, 0x1000, 0x1000, 9, 0), // unknown type
            (0, 0x1000, 0x2000, 0x1000, 3, 0), // TEMP_MEM with data
            (0, 0, 0xFFFF_FFFF_FFFF_0000, 0x2_0000, 3, 0), // wraps the address space
        ])
        XCTAssertEqual(
            FirmwareImage(bytes: wellFormed(tdvf: tdvf).bytes).problems,
            [
                .tdxSectionDataPastFile(index: 0, dataOffset: 0xF000, rawSize: 0x2000, fileSize: 0x1_0000),
                .tdxSectionMisaligned(index: 1, memoryAddress: 0x80_0800, memorySize: 0x1000),
                .unknownTDXSectionType(index: 2, type: 9),
                .tdxSectionRawDataMismatch(index: 3, type: "TEMP_MEM", rawSize: 0x1000),
                .tdxSectionOutsideAddressSpace(index: 4, memoryAddress: 0xFFFF_FFFF_FFFF_0000, memorySize: 0x2_0000),
            ])
        for problem in FirmwareImage(bytes: wellFormed(tdvf: tdvf).bytes).problems {
            XCTAssertTrue(problem.description.hasPrefix("TDX metadata section"), problem.description)
        }
    }
}

/// The checks that bound what a table can ask a VMM (and our digests) to do: no section twice,
/// none empty, none over the image, and the memory added before launch at most 4 GiB.
final class FirmwareSectionBoundTests: XCTestCase {
    typealias T = FirmwareTestImage

    private func problems(sev: [UInt8]? = nil, tdvf: [UInt8]? = nil, size: Int = 0x1_0000) -> [FirmwareError] {
        var image = T(size: size)
        var entries: [(String, [UInt8])] = []
        if let sev {
            image.put(sev, at: 0x1000)
            entries.append((T.sevMetadataGUID, T.le32(UInt32(size - 0x1000))))
        }
        if let tdvf {
            let at = 0x1000 + (sev.map { ($0.count + 15) / 16 * 16 } ?? 0)
            image.put(tdvf, at: at)
            entries.append((T.tdxMetadataGUID, T.le32(UInt32(size - at))))
        }
        image.writeTable(entries)
        return FirmwareImage(bytes: image.bytes).problems
    }

    func testSEVSectionsThatOverlapAreEmptyOrCoverTheImageAreNamed() {
        // The 64 KiB image lies at 0xFFFF0000..4 GiB.
        let sev = T.sev([(0x80_0000, 0x2000, 1), (0x80_1000, 0x1000, 2), (0x90_0000, 0, 3), (0xFFFF_8000, 0x1000, 1)])
        XCTAssertEqual(
            problems(sev: sev),
            [
                .sevSectionEmpty(index: 2, gpa: 0x90_0000, type: "CPUID"),
                .sevSectionOverlapsImage(index: 3, gpa: 0xFFFF_8000, size: 0x1000, imageBase: 0xFFFF_0000),
                .sevSectionsOverlap(index: 1, gpa: 0x80_1000, size: 0x1000, other: 0, otherGPA: 0x80_0000, otherSize: 0x2000),
            ])
        XCTAssertEqual(
            FirmwareError.sevSectionsOverlap(
                index: 1, gpa: 0x80_1000, size: 0x1000, other: 0, otherGPA: 0x80_0000,
                otherSize: 0x2000
            ).description,
            "SEV metadata section 1 (GPA 0x801000, size 0x1000) overlaps section 0 (GPA 0x800000, size 0x2000): a VMM cannot add a page twice")
        // Adjacent sections share no page.
        XCTAssertEqual(problems(sev: T.sev([(0x80_0000, 0x1000, 1), (0x80_1000, 0x1000, 2), (0x7F_F000, 0x1000, 3)])), [])
    }

    func testTDXSectionsThatOverlapOrAreEmptyAreNamedAndPageAugIsExempt() {
        let tdvf = T.tdvf([
            (0, 0x1_0000, 0xFFFF_0000, 0x1_0000, 0, 1), // BFV: the whole image, extended
            (0, 0, 0x80_0000, 0, 3, 0), // an empty TEMP_MEM
            (0, 0, 0x80_0000, 0x2000, 2, 0), // TD_HOB
            (0, 0, 0x80_1000, 0x1000, 3, 0), // TEMP_MEM over the TD_HOB's second page
            (0, 0, 0, 0x1000_0000, 3, 2), // PAGE.AUG over all of them: added later by the guest
        ])
        XCTAssertEqual(
            problems(tdvf: tdvf),
            [
                .tdxSectionEmpty(index: 1, type: "TEMP_MEM"),
                .tdxSectionsOverlap(
                    index: 3, memoryAddress: 0x80_1000, memorySize: 0x1000,
                    other: 2, otherAddress: 0x80_0000, otherSize: 0x2000),
            ])
    }

    func testMemoryAddedBeforeLaunchIsAtMostFourGiBInAll() {
        // Four 1 GiB TEMP_MEM sections after the image's 64 KiB: the fourth passes 4 GiB.
        typealias Section = (UInt32, UInt32, UInt64, UInt64, UInt32, UInt32)
        let volume: Section = (0, 0x1_0000, 0xFFFF_0000, 0x1_0000, 0, 1)
        let gigabytes: [Section] = (1...4).map { (0, 0, UInt64($0) << 32, 1 << 30, 3, 0) }
        let tdvf = T.tdvf([volume] + gigabytes)
        XCTAssertEqual(problems(tdvf: tdvf), [.tdxPrelaunchTotalTooLarge(index: 4, total: 0x1_0001_0000, limit: 1 << 32)])
        // Exactly 4 GiB is accepted; PAGE.AUG sections do not count.
        let short: Section = (0, 0, 1 << 32, (1 << 30) - 0x1_0000, 3, 0)
        let later: Section = (0, 0, 1 << 40, 1 << 40, 3, 2)
        let exact = T.tdvf([volume, short] + gigabytes.dropFirst() + [later])
        XCTAssertEqual(problems(tdvf: exact), [])
    }

    func testExtendedMemoryIsAtMostTheImage() {
        // The BFV extends the whole 64 KiB image; a TEMP_MEM page extended as well is one more
        // page of measured content than the volume holds.
        let tdvf = T.tdvf([(0, 0x1_0000, 0xFFFF_0000, 0x1_0000, 0, 1), (0, 0, 0x80_0000, 0x1000, 3, 1)])
        XCTAssertEqual(problems(tdvf: tdvf), [.tdxExtendedTotalTooLarge(index: 1, total: 0x1_1000, imageSize: 0x1_0000)])
    }

    func testATableDeclaringMoreSectionsThanWeReadIsNotRead() {
        // 4097 SEV sections, length and file both large enough.
        let count = 4097
        var sev = Array("ASEV".utf8) + T.le32(UInt32(16 + 12 * count)) + T.le32(1) + T.le32(UInt32(count))
        sev += [UInt8](repeating: 0, count: 12 * count)
        XCTAssertEqual(problems(sev: sev), [.tooManySections(structure: .sevMetadata, count: UInt32(count), limit: 4096)])
        let tdvf =
            Array("TDVF".utf8) + T.le32(UInt32(16 + 32 * count)) + T.le32(1) + T.le32(UInt32(count))
            + [UInt8](repeating: 0, count: 32 * count)
        XCTAssertEqual(problems(tdvf: tdvf, size: 0x4_0000), [.tooManySections(structure: .tdxMetadata, count: UInt32(count), limit: 4096)])
    }
}
