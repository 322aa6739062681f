import GuestPhysical
import HostRunner
import XCTest

/// The TD HOB byte for byte against the PI specification's HOB structures.
final class TDHobTests: XCTestCase {
    private func u16(_ bytes: [UInt8], _ at: Int) -> UInt64 { UInt64(bytes[at]) | UInt64(bytes[at + 1]) << 8 }
    private func u32(_ bytes: [UInt8], _ at: Int) -> UInt64 { u16(bytes, at) | u16(bytes, at + 2) << 16 }
    private func u64(_ bytes: [UInt8], _ at: Int) -> UInt64 { u32(bytes, at) | u32(bytes, at + 4) << 32 }

    func testRAMIsCutIntoAddedAndUnacceptedInAddressOrder() {
        let ram = GPARange(start: 0, end: 0x400_0000)
        let resources = TDHob.resources(ram: ram, added: [GPARange(start: 0x10_0000, end: 0x14_1000), GPARange(start: 0x8_0000, end: 0x8_2000)])
        XCTAssertEqual(
            resources,
            [
                TDHob.Resource(range: GPARange(start: 0, end: 0x8_0000), type: 7),
                TDHob.Resource(range: GPARange(start: 0x8_0000, end: 0x8_2000), type: 0),
                TDHob.Resource(range: GPARange(start: 0x8_2000, end: 0x10_0000), type: 7),
                TDHob.Resource(range: GPARange(start: 0x10_0000, end: 0x14_1000), type: 0),
                TDHob.Resource(range: GPARange(start: 0x14_1000, end: 0x400_0000), type: 7),
            ])
    }

    func testLayoutIsPHITResourcesEndOfList() throws {
        let resources = [
            TDHob.Resource(range: GPARange(start: 0, end: 0x8_0000), type: 7),
            TDHob.Resource(range: GPARange(start: 0x8_0000, end: 0x8_2000), type: 0),
        ]
        let hob = try TDHob.bytes(base: 0x8_0000, capacity: 0x2000, resources: resources)
        XCTAssertEqual(hob.count, 56 + 2 * 48 + 8)
        // PHIT: type 1, length 56, reserved, version 9, boot mode 0, four zero addresses, end of list.
        XCTAssertEqual([u16(hob, 0), u16(hob, 2), u32(hob, 4), u32(hob, 8), u32(hob, 12)], [1, 56, 0, 9, 0])
        XCTAssertEqual(hob[16..<48].allSatisfy { $0 == 0 }, true)
        XCTAssertEqual(u64(hob, 48), 0x8_0000 + UInt64(hob.count), "EfiEndOfHobList: just past the end-of-list HOB")
        // Resource descriptor 1 at 56: header, zero owner GUID, type, attributes 7, start, length.
        XCTAssertEqual([u16(hob, 56), u16(hob, 58), u32(hob, 60)], [3, 48, 0])
        XCTAssertEqual(hob[64..<80].allSatisfy { $0 == 0 }, true)
        XCTAssertEqual([u32(hob, 80), u32(hob, 84), u64(hob, 88), u64(hob, 96)], [7, 7, 0, 0x8_0000])
        XCTAssertEqual([u32(hob, 128), u32(hob, 132), u64(hob, 136), u64(hob, 144)], [0, 7, 0x8_0000, 0x2000])
        XCTAssertEqual([u16(hob, 152), u16(hob, 154), u32(hob, 156)], [0xFFFF, 8, 0])
    }

    func testAHobLargerThanItsSectionIsRefused() {
        let many = (0..<200).map { TDHob.Resource(range: GPARange(start: UInt64($0) << 12, end: UInt64($0 + 1) << 12), type: 7) }
        XCTAssertThrowsError(try TDHob.bytes(base: 0x8_0000, capacity: 0x2000, resources: many)) {
            XCTAssertEqual($0 as? TDHob.Failure, .doesNotFit(needed: 56 + 200 * 48 + 8, available: 0x2000))
        }
    }
}
