import GuestABI
import XCTest

final class GPARangeTests: XCTestCase {
    func testPageCountRange() throws {
        let range = try GPARange(start: 0x20_0000, pageCount: 512)
        XCTAssertEqual(range.start, 0x20_0000)
        XCTAssertEqual(range.firstFrame, 0x200)
        XCTAssertEqual(range.endFrame, 0x400)
        XCTAssertEqual(range.end, 0x40_0000)
        XCTAssertEqual(range.lastAddress, 0x3F_FFFF)
        XCTAssertEqual(range.byteCount, 0x20_0000)
    }

    func testByteCountRange() throws {
        let range = try GPARange(start: 0x1000, byteCount: 0x3000)
        XCTAssertEqual(range.pageCount, 3)
        XCTAssertThrowsError(try GPARange(start: 0x1000, byteCount: 0x1800))
        XCTAssertThrowsError(try GPARange(start: 0x1000, byteCount: 0))
        XCTAssertThrowsError(try GPARange(start: 0xFFFF_FFFF_FFFF_F000, byteCount: 0x2000))
        XCTAssertEqual(try GPARange(start: 0xFFFF_FFFF_FFFF_F000, byteCount: 0x1000).end, nil)
    }

    func testRejectsUnalignedEmptyAndWrapping() {
        XCTAssertThrowsError(try GPARange(start: 0x1001, pageCount: 1)) {
            XCTAssertEqual($0 as? GPARangeError, .unalignedStart(0x1001))
        }
        XCTAssertThrowsError(try GPARange(start: 0x1000, pageCount: 0)) {
            XCTAssertEqual($0 as? GPARangeError, .empty)
        }
        // Frame 1 plus 2^64 - 1 frames wraps the frame number.
        XCTAssertThrowsError(try GPARange(start: 0x1000, pageCount: .max)) {
            XCTAssertEqual($0 as? GPARangeError, .wraps(start: 0x1000, pageCount: .max))
        }
    }

    func testHugeRangeIsRepresentableWithoutByteCount() throws {
        // KVM accepts this npages (frame arithmetic does not wrap); bytes would.
        let range = try GPARange(start: 0, pageCount: 1 << 60)
        XCTAssertNil(range.byteCount)
        XCTAssertNil(range.end)
        XCTAssertEqual(range.endFrame, 1 << 60)
    }

    func testContainmentAndOverlap() throws {
        let outer = try GPARange(start: 0x10000, pageCount: 16)
        let inner = try GPARange(start: 0x12000, pageCount: 2)
        let after = try GPARange(start: 0x20000, pageCount: 1)
        XCTAssertTrue(outer.contains(inner))
        XCTAssertFalse(inner.contains(outer))
        XCTAssertTrue(outer.overlaps(inner))
        XCTAssertFalse(outer.overlaps(after))
        XCTAssertTrue(outer.contains(frame: 0x1F))
        XCTAssertFalse(outer.contains(frame: 0x20))
    }
}
