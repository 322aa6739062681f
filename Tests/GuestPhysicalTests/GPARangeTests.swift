import GuestPhysical
import XCTest

final class GPARangeTests: XCTestCase {
    func testPageCountRange() throws {
        let range = try GPARange(start: 0x20_0000, pageCount: 512)
        XCTAssertEqual(range.start, 0x20_0000)
        XCTAssertEqual(range.firstFrame, 0x200)
        XCTAssertEqual(range.endFrame, 0x400)
        XCTAssertEqual(range.end, 0x40_0000)
        XCTAssertEqual(range.byteCount, 0x20_0000)
        XCTAssertEqual(range.pageCount, 512)
        XCTAssertTrue(range.isPageAligned)
        XCTAssertEqual(range, GPARange(start: 0x20_0000, end: 0x40_0000))
    }

    func testByteCountRange() throws {
        let range = try GPARange(start: 0x1000, byteCount: 0x3000)
        XCTAssertEqual(range.pageCount, 3)
        XCTAssertThrowsError(try GPARange(start: 0x1000, byteCount: 0x1800))
        XCTAssertThrowsError(try GPARange(start: 0x1000, byteCount: 0))
        XCTAssertThrowsError(try GPARange(start: 0xFFFF_FFFF_FFFF_F000, byteCount: 0x2000))
        let top = try GPARange(start: 0xFFFF_FFFF_FFFF_F000, byteCount: 0x1000)
        XCTAssertEqual(top.upperBound, GPARange.addressSpaceEnd)
        XCTAssertTrue(top.isWithinAddressSpace)
    }

    func testRejectsUnalignedEmptyAndWrapping() {
        XCTAssertThrowsError(try GPARange(start: 0x1001, pageCount: 1)) {
            XCTAssertEqual($0 as? GPARangeError, .unalignedStart(0x1001))
        }
        XCTAssertThrowsError(try GPARange(start: 0x1000, pageCount: 0)) {
            XCTAssertEqual($0 as? GPARangeError, .empty)
        }
        // Frame 1 plus 2^64 - 1 frames wraps the frame number: KVM's own refusal.
        XCTAssertThrowsError(try GPARange(start: 0x1000, pageCount: .max)) {
            XCTAssertEqual($0 as? GPARangeError, .wraps(start: 0x1000, pageCount: .max))
        }
    }

    /// The request of the hostile-hardening issue's finding 1: 2^52 + 16 pages at 0x400000 is
    /// a valid KVM range (its frames do not wrap) of 2^64 + 64 KiB bytes. It must stay that
    /// range, not become [0x400000, 0x410000).
    func testRangePastTwoToTheSixtyFourIsExact() throws {
        let range = try GPARange(start: 0x40_0000, pageCount: (1 << 52) + 16)
        XCTAssertFalse(range.isWithinAddressSpace)
        XCTAssertEqual(range.upperBound, (UInt128(1) << 64) + 0x41_0000)
        XCTAssertEqual(range.pageCount, (1 << 52) + 16)
        XCTAssertFalse(GPARange(start: 0, end: 0xC000_0000).contains(range))
        XCTAssertTrue(range.overlaps(GPARange(start: 0x40_0000, end: 0x41_0000)))
        XCTAssertEqual(range.description, "[0x400000, 0x10000000000410000)")
        XCTAssertEqual(range.end, .max, "the 64-bit end saturates rather than wraps")
    }

    func testHugeFrameCountsAtTheTop() throws {
        let range = try GPARange(start: 0, pageCount: 1 << 60)
        XCTAssertEqual(range.endFrame, 1 << 60)
        XCTAssertEqual(range.byteCount, UInt128(1) << 72)
        let last = try GPARange(start: (1 << 52) - 0x1000, pageCount: 1)
        XCTAssertEqual(last.upperBound, 1 << 52)
        XCTAssertEqual(GPARange(firstFrame: 0xFFFF_FFFF_FFFF_F, pageCount: 1).upperBound, UInt128(1) << 64)
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
        XCTAssertTrue(outer.contains(0x1FFFF))
        XCTAssertFalse(outer.contains(0x20000))
        XCTAssertEqual(outer.clamped(to: GPARange(start: 0x1F000, end: 0x30000)), GPARange(start: 0x1F000, end: 0x20000))
        XCTAssertNil(outer.clamped(to: after))
    }

    func testEmptyAndReversedRanges() {
        let reversed = GPARange(start: 0x2000, end: 0x1000)
        XCTAssertTrue(reversed.isEmpty)
        XCTAssertEqual(reversed.byteCount, 0)
        XCTAssertFalse(reversed.overlaps(GPARange(start: 0, end: 0x3000)))
        XCTAssertEqual(reversed.description, "[0x2000, 0x1000)")
        XCTAssertEqual(GPARange(start: 0xFFFF_FFFF_FFFF_F000, exactByteCount: 0x2000).upperBound, (UInt128(1) << 64) + 0x1000)
    }

    func testCodableRoundTrip() throws {
        let range = GPARange(start: 0x10_0000, end: 0x10_3000)
        let data = try JSONEncoder().encode(range)
        XCTAssertEqual(try JSONDecoder().decode(GPARange.self, from: data), range)
    }
}
