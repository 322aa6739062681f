import GuestPhysical
import HostRunner
import XCTest

final class PageStateMapTests: XCTestCase {
    private func r(_ start: UInt64, _ end: UInt64) -> GPARange { GPARange(start: start, end: end) }

    func testSetReportsWhatFlippedAndWhatWasAlreadyThere() {
        var map = PageStateMap()
        map.set(r(0, 0x10000), to: .private)
        let change = map.set(r(0x4000, 0x8000), to: .shared)
        XCTAssertEqual(change.flipped, [r(0x4000, 0x8000)])
        XCTAssertEqual(change.unchanged, [])
        XCTAssertEqual(map.intervals.map(\.range), [r(0, 0x4000), r(0x4000, 0x8000), r(0x8000, 0x10000)])
        XCTAssertEqual(map.intervals.map(\.state), [.private, .shared, .private])

        // Over a mixed range: only the private parts flip; the shared part is idempotent.
        let second = map.set(r(0x2000, 0xA000), to: .shared)
        XCTAssertEqual(second.flipped, [r(0x2000, 0x4000), r(0x8000, 0xA000)])
        XCTAssertEqual(second.unchanged, [r(0x4000, 0x8000)])
        XCTAssertEqual(map.intervals.map(\.range), [r(0, 0x2000), r(0x2000, 0xA000), r(0xA000, 0x10000)])
    }

    func testMergesBackWhenRestored() {
        var map = PageStateMap()
        map.set(r(0, 0x20_0000), to: .private)
        map.set(r(0x1000, 0x2000), to: .shared)
        XCTAssertEqual(map.intervals.count, 3)
        let change = map.set(r(0x1000, 0x2000), to: .private)
        XCTAssertEqual(change.flipped, [r(0x1000, 0x2000)])
        XCTAssertEqual(map.intervals, [PageStateMap.Interval(range: r(0, 0x20_0000), state: .private)])
        XCTAssertEqual(map.state(at: 0x1800), .private)
        XCTAssertNil(map.state(at: 0x20_0000))
    }

    func testUntrackedMemoryCountsAsFlipped() {
        var map = PageStateMap()
        map.set(r(0x1000, 0x2000), to: .shared)
        let change = map.set(r(0, 0x3000), to: .shared)
        XCTAssertEqual(change.flipped, [r(0, 0x1000), r(0x2000, 0x3000)])
        XCTAssertEqual(change.unchanged, [r(0x1000, 0x2000)])
    }
}
