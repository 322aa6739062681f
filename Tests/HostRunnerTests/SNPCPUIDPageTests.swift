import HostRunner
import KVM
import XCTest

/// The CPUID page layout, byte by byte against Linux's struct snp_cpuid_table.
final class SNPCPUIDPageTests: XCTestCase {
    private func entry(_ function: UInt32, _ index: UInt32, _ eax: UInt32, _ ebx: UInt32, _ ecx: UInt32, _ edx: UInt32) -> CPUIDEntry {
        var entry = CPUIDEntry()
        entry.function = function
        entry.index = index
        entry.eax = eax
        entry.ebx = ebx
        entry.ecx = ecx
        entry.edx = edx
        return entry
    }

    private func dword(_ page: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(page[at + $1]) << (8 * $1) }
    }

    func testLayoutFollowsSnpCpuidTable() throws {
        let page = try SNPCPUIDPage.page([entry(0, 0, 0x10, 0x6874_7541, 0x444D_4163, 0x6974_6E65), entry(0xD, 1, 0xF, 0x3C0, 0, 0)])
        XCTAssertEqual(page.count, 4096)
        XCTAssertEqual(dword(page, 0), 2, "count")
        XCTAssertEqual(page[4..<16].allSatisfy { $0 == 0 }, true, "reserved header fields")
        // Entry 0 at 16: EAX_IN, ECX_IN, XCR0_IN, XSS_IN, then EAX..EDX at +24, reserved at +40.
        XCTAssertEqual(
            [dword(page, 16), dword(page, 20), dword(page, 40), dword(page, 44), dword(page, 48), dword(page, 52)],
            [0, 0, 0x10, 0x6874_7541, 0x444D_4163, 0x6974_6E65])
        XCTAssertEqual(page[24..<40].allSatisfy { $0 == 0 }, true, "XCR0_IN/XSS_IN of a leaf that does not depend on them")
        // Entry 1 at 64: leaf 0xD.1 carries XCR0_IN = 1 and EBX = 0x240, as QEMU writes it.
        XCTAssertEqual(
            [dword(page, 64), dword(page, 68), dword(page, 72), dword(page, 80), dword(page, 88), dword(page, 92)],
            [0xD, 1, 1, 0, 0xF, 0x240])
        XCTAssertEqual(page[112...].allSatisfy { $0 == 0 }, true)
    }

    func testMoreThanSixtyFourEntriesAreRefused() {
        let entries = (0..<65).map { entry(UInt32($0), 0, 0, 0, 0, 0) }
        XCTAssertThrowsError(try SNPCPUIDPage.page(entries)) {
            XCTAssertEqual($0 as? SNPCPUIDPage.Failure, .tooManyEntries(65))
        }
        XCTAssertNoThrow(try SNPCPUIDPage.page(Array(entries.prefix(64))))
    }

    func testSecretsPageHeader() {
        let page = SNPSecretsPage.page(fms: 0x00A0_0F11)
        XCTAssertEqual(dword(page, 0), 2)
        XCTAssertEqual(dword(page, 4), 0)
        XCTAssertEqual(dword(page, 8), 0x00A0_0F11)
        XCTAssertFalse(page[0x20..<0x40].allSatisfy { $0 == 0 }, "VMPCK0 present")
        XCTAssertNotEqual(page, SNPSecretsPage.page(fms: 0x00A0_0F11), "fresh keys each launch")
    }
}
