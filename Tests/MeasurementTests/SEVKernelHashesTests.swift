import Measurement
import Payload
import XCTest

/// The kernel-hash table QEMU writes (target/i386/sev.c SevHashTable), checked field by field;
/// the hashes are the well-known SHA-256 values of "abc", "" and "\0".
final class SEVKernelHashesTests: XCTestCase {
    func testTableLayout() throws {
        let hashes = SEVKernelHashes(kernel: Array("abc".utf8), initrd: nil, commandLine: nil)
        let table = hashes.table
        XCTAssertEqual(table.count, 176, "168 bytes padded to a multiple of 16")
        XCTAssertEqual(Array(table[0..<16]), KnownFirmwareGUID.sevHashTableHeader.bytes)
        XCTAssertEqual(Array(table[16..<18]), [168, 0])
        let entries: [(FirmwareGUID, String)] = [
            (KnownFirmwareGUID.sevCmdlineEntry, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            (KnownFirmwareGUID.sevInitrdEntry, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (KnownFirmwareGUID.sevKernelEntry, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ]
        for (index, (guid, hash)) in entries.enumerated() {
            let start = 18 + index * 50
            XCTAssertEqual(Array(table[start..<(start + 16)]), guid.bytes)
            XCTAssertEqual(Array(table[(start + 16)..<(start + 18)]), [50, 0])
            XCTAssertEqual(ExternalTools.hex(Array(table[(start + 18)..<(start + 50)])), hash)
        }
        XCTAssertEqual(Array(table[168...]), [UInt8](repeating: 0, count: 8))
    }

    func testPagePlacementAndOverflow() throws {
        let hashes = SEVKernelHashes(kernel: [], initrd: [], commandLine: "console=ttyS0")
        let page = try XCTUnwrap(hashes.page(tableAt: 0xC00))
        XCTAssertEqual(Array(page[0xC00..<0xCB0]), hashes.table)
        XCTAssertEqual(page[0..<0xC00].allSatisfy { $0 == 0 }, true)
        XCTAssertNil(hashes.page(tableAt: 4096 - 100), "a table that would cross the page is refused")
    }
}
