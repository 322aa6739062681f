import Measurement
import XCTest

/// PAGE_INFO layout and the digest chain, against vectors computed independently with Python's
/// hashlib over PAGE_INFO buffers assembled by hand from the SEV-SNP firmware ABI table.
final class SNPLaunchDigestTests: XCTestCase {
    func testPageInfoLayoutFollowsTheABITable() {
        var info = SNPPageInfo(
            currentDigest: [UInt8](repeating: 0x11, count: 48),
            contents: [UInt8](repeating: 0x22, count: 48), pageType: .zero, gpa: 0x1234_5000)
        info.vmpl1Permissions = 0x0F
        let bytes = info.bytes
        XCTAssertEqual(bytes.count, 0x70)
        XCTAssertEqual(Array(bytes[0..<48]), [UInt8](repeating: 0x11, count: 48), "DIGEST_CUR at 0x00")
        XCTAssertEqual(Array(bytes[48..<96]), [UInt8](repeating: 0x22, count: 48), "CONTENTS at 0x30")
        XCTAssertEqual(Array(bytes[0x60..<0x62]), [0x70, 0x00], "LENGTH at 0x60")
        XCTAssertEqual(bytes[0x62], 3, "PAGE_TYPE at 0x62 (ZERO = 3)")
        XCTAssertEqual(bytes[0x63], 0, "IMI_PAGE at 0x63")
        XCTAssertEqual(Array(bytes[0x64..<0x68]), [0, 0, 0x0F, 0], "VMPL3, VMPL2, VMPL1 permissions, reserved")
        XCTAssertEqual(Array(bytes[0x68..<0x70]), [0x00, 0x50, 0x34, 0x12, 0, 0, 0, 0], "GPA at 0x68")
    }

    func testPageTypeCodes() {
        XCTAssertEqual([SNPPageType.normal, .vmsa, .zero, .unmeasured, .secrets, .cpuid].map(\.rawValue), [1, 2, 3, 4, 5, 6])
    }

    func testZeroPageFromZeroSeed() {
        var digest = SNPLaunchDigest()
        digest.addPages(.zero, gpa: 0x80_0000, size: 0x1000)
        XCTAssertEqual(
            hex(digest.value),
            "4472405c6dbc65e5629805f2be1b3df74eb119841eff12466c24f43e67083c23df5e645b2742b6d9aa0f943e095cebaa")
    }

    func testNormalPageThenVMSAChain() {
        var digest = SNPLaunchDigest()
        digest.addNormalPages(gpa: 0xFFFF_F000, data: [UInt8](repeating: 0xAB, count: 4096))
        XCTAssertEqual(
            hex(digest.value),
            "e2a9ac49b1c11f66cfcd9d59736f224be35cfa6f4d740060974c44434ae65237b0ca8e56d95d3364e63b8a16f3d21c13")
        digest.addVMSA([UInt8](repeating: 0, count: 4096))
        XCTAssertEqual(
            hex(digest.value),
            "e6f790561112574c5a37e3ca1456063afafd9c415bb7581d3f5651e8e577dce9e3884df35d9b44f8fb329e3e7a30fed2")
    }

    func testMultiPageRangesExtendOncePerPage() {
        var whole = SNPLaunchDigest()
        whole.addPages(.unmeasured, gpa: 0x10_0000, size: 0x3000)
        var byPage = SNPLaunchDigest()
        for gpa in stride(from: UInt64(0x10_0000), to: 0x10_3000, by: 0x1000) {
            byPage.update(.unmeasured, gpa: gpa, contents: [UInt8](repeating: 0, count: 48))
        }
        XCTAssertEqual(whole, byPage)
    }

    private func hex(_ bytes: [UInt8]) -> String { ExternalTools.hex(bytes) }
}
