import GuestABI
import XCTest

/// Offsets and valid-bitmap positions from the GHCB layout in Linux asm/svm.h
/// (`struct ghcb_save_area`): bit = offset / 8, bitmap at 0x3F0.
final class GHCBPageTests: XCTestCase {
    func testFieldOffsetsAndValidBits() {
        let expected: [(GHCBField, offset: Int, bitmapByte: Int, mask: UInt8)] = [
            (.cpl, 0x0CB, 0x3F3, 0x02),
            (.rax, 0x1F8, 0x3F7, 0x80),
            (.rcx, 0x308, 0x3FC, 0x02),
            (.rdx, 0x310, 0x3FC, 0x04),
            (.rbx, 0x318, 0x3FC, 0x08),
            (.rsi, 0x330, 0x3FC, 0x40),
            (.swExitCode, 0x390, 0x3FE, 0x04),
            (.swExitInfo1, 0x398, 0x3FE, 0x08),
            (.swExitInfo2, 0x3A0, 0x3FE, 0x10),
            (.swScratch, 0x3A8, 0x3FE, 0x20),
        ]
        for (field, offset, bitmapByte, mask) in expected {
            var page = GHCBPage()
            page.set(field, 0xA5)
            XCTAssertEqual(page.bytes[offset], 0xA5, "\(field)")
            XCTAssertEqual(page.bytes[bitmapByte], mask, "\(field)")
            XCTAssertEqual(page.bytes.reduce(0) { $0 + Int($1 != 0 ? 1 : 0) }, 2, "\(field) touched other bytes")
            XCTAssertTrue(page.isValid(field))
        }
    }

    func testLittleEndianQuadword() {
        var page = GHCBPage()
        page[.swExitCode] = 0x8000_0010
        XCTAssertEqual(Array(page.bytes[0x390..<0x398]), [0x10, 0, 0, 0x80, 0, 0, 0, 0])
    }

    func testUsageAndProtocolVersion() throws {
        var bytes = [UInt8](repeating: 0, count: 4096)
        bytes[0xFFA] = 2
        bytes[0xFFC] = 1
        let page = try GHCBPage(bytes: bytes)
        XCTAssertEqual(page.protocolVersion, 2)
        XCTAssertEqual(page.usage, 1)
    }

    func testRejectsWrongSize() {
        XCTAssertThrowsError(try GHCBPage(bytes: [UInt8](repeating: 0, count: 4095))) {
            XCTAssertEqual($0 as? GHCBPageError, .wrongSize(4095))
        }
    }

    func testChangedRangesCoverOnlyWrites() throws {
        var page = try GHCBPage(bytes: [UInt8](repeating: 0xEE, count: 4096))
        XCTAssertFalse(page.hasChanges)
        page[.swExitInfo1] = 0
        page[.swExitInfo2] = 0
        page.store(UInt16(7), at: 0x801)
        XCTAssertEqual(page.changedRanges, [0x398..<0x3A8, 0x800..<0x808])
        page.markClean()
        XCTAssertEqual(page.changedRanges, [])
    }

    func testCopyingFromRawBuffer() throws {
        let source = [UInt8](repeating: 3, count: 4096)
        let page = try source.withUnsafeBytes { try GHCBPage(copying: $0) }
        XCTAssertEqual(page.bytes, source)
    }
}

final class GHCBPageReloadTests: XCTestCase {
    /// A per-vCPU page refilled from guest memory holds exactly the new bytes and reports no
    /// changes left over from the previous request.
    func testReloadReplacesBytesAndForgetsChanges() throws {
        var page = GHCBPage()
        page[.swExitInfo2] = 0x1234
        XCTAssertEqual(page.changedRanges, [0x3A0..<0x3A8])
        var fresh = [UInt8](repeating: 0, count: 4096)
        fresh[0x390] = 0x10 // SW_EXITCODE low byte
        try fresh.withUnsafeBytes { try page.reload(copying: $0) }
        XCTAssertEqual(page.bytes, fresh)
        XCTAssertEqual(page.changedRanges, [])
        XCTAssertEqual(page[.swExitCode], 0x10)
        XCTAssertThrowsError(try [UInt8](repeating: 0, count: 100).withUnsafeBytes { try page.reload(copying: $0) })
    }
}
