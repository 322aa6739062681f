import XCTest

@testable import HostRunner

/// PVALIDATE's operands as the instruction reads them (issue 20, finding 7; the rules and
/// their sources: docs/interfaces.md, "PVALIDATE operands").
final class PValidateOperandsTests: XCTestCase {
    private func decode(_ rax: UInt64, rcx: UInt64 = 0, rdx: UInt64 = 1, longMode64: Bool = true, la57: Bool = false) -> PValidateOperands {
        PValidateOperands.decode(rax: rax, rcx: rcx, rdx: rdx, longMode64: longMode64, fiveLevelPaging: la57)
    }

    func testANonCanonicalAddressIsAGeneralProtectionFaultNotItsLowBits() {
        XCTAssertEqual(decode(0xDEAD_0000_0040_0000), .generalProtection("RAX 0xdead000000400000 is not canonical (bits 63:47 differ)"))
        XCTAssertEqual(decode(0x0000_8000_0000_0000), .generalProtection("RAX 0x800000000000 is not canonical (bits 63:47 differ)"))
        XCTAssertEqual(decode(0xFFFF_7FFF_FFFF_F000), .generalProtection("RAX 0xffff7ffffffff000 is not canonical (bits 63:47 differ)"))
        XCTAssertEqual(decode(0x0000_7FFF_FFFF_F000), .operands(gva: 0x0000_7FFF_FFFF_F000, pageSize: 0, validate: 1))
        XCTAssertEqual(decode(0xFFFF_8000_0000_0000), .operands(gva: 0xFFFF_8000_0000_0000, pageSize: 0, validate: 1))
        XCTAssertEqual(decode(0x40_0000), .operands(gva: 0x40_0000, pageSize: 0, validate: 1))
    }

    func testFiveLevelPagingWidensTheCanonicalRange() {
        XCTAssertEqual(decode(0x0000_8000_0000_0000, la57: true), .operands(gva: 0x0000_8000_0000_0000, pageSize: 0, validate: 1))
        XCTAssertEqual(decode(0x0100_0000_0000_0000, la57: true), .generalProtection("RAX 0x100000000000000 is not canonical (bits 63:56 differ)"))
        XCTAssertEqual(decode(0xFF00_0000_0000_0000, la57: true), .operands(gva: 0xFF00_0000_0000_0000, pageSize: 0, validate: 1))
    }

    func testPageSizeAndValidateAreECXAndEDX() {
        XCTAssertEqual(
            decode(0x40_0000, rcx: 0xFFFF_FFFF_0000_0001, rdx: 0x8000_0000_0000_0000),
            .operands(gva: 0x40_0000, pageSize: 1, validate: 0))
        XCTAssertEqual(
            decode(0x40_0000, rcx: 2, rdx: 0x1_0000_0002), .operands(gva: 0x40_0000, pageSize: 2, validate: 2),
            "bits 31:1 are read (and refused as FAIL_INPUT by the RMP rules)")
    }

    func testOutside64BitModeTheAddressIsEAX() {
        XCTAssertEqual(decode(0xDEAD_0000_0040_0000, longMode64: false), .operands(gva: 0x40_0000, pageSize: 0, validate: 1))
    }
}
