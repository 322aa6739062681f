import GuestPhysical
import Payload
import XCTest

final class PopulationPlanTests: XCTestCase {
    private func range(_ name: String, _ start: UInt64, _ end: UInt64, _ kind: PlanRange.Kind = .measured, _ state: PlanRange.State = .private) -> PlanRange {
        PlanRange(name: name, range: GPARange(start: start, end: end), kind: kind, state: state)
    }

    private func validate(_ ranges: [PlanRange], layout: Layout = .direct64, loadable: [GPARange] = []) -> PlanError? {
        do {
            try PopulationPlan(ranges: ranges).validate(layout: layout, loadable: loadable)
            return nil
        } catch {
            return error
        }
    }

    func testAcceptsAWellFormedPlan() {
        XCTAssertNil(
            validate(
                [range("image", 0x10_0000, 0x10_4000), range("bss", 0x10_4000, 0x10_8000, .zero)],
                loadable: [GPARange(start: 0x10_0000, end: 0x10_3800)]))
    }

    func testEachViolationIsPrecise() {
        XCTAssertEqual(validate([range("odd", 0x10_0800, 0x10_2000)]), .unaligned(range("odd", 0x10_0800, 0x10_2000)))
        XCTAssertEqual(
            validate([range("a", 0x10_0000, 0x10_4000), range("b", 0x10_3000, 0x10_5000)]),
            .overlapping(range("a", 0x10_0000, 0x10_4000), range("b", 0x10_3000, 0x10_5000)))
        XCTAssertEqual(validate([range("rom", 0xFFE0_0000, 0xFFE1_0000)]), .outsideLayout(range("rom", 0xFFE0_0000, 0xFFE1_0000), .direct64))
        XCTAssertNil(validate([range("rom", 0xFFE0_0000, 0xFFE1_0000)], layout: .firmware))
        XCTAssertEqual(
            validate([range("ghcb", 0x20_0000, 0x20_1000, .shared, .private)]), .sharedMustStartShared(range("ghcb", 0x20_0000, 0x20_1000, .shared, .private)))
        // Bytes at [0x10_4000, 0x10_5000) are covered only by a zero range: not populated.
        XCTAssertEqual(
            validate(
                [range("image", 0x10_0000, 0x10_4000), range("bss", 0x10_4000, 0x10_8000, .zero)],
                loadable: [GPARange(start: 0x10_0000, end: 0x10_5000)]),
            .uncovered(GPARange(start: 0x10_4000, end: 0x10_5000)))
    }

    func testDecodesTheSectionAndDropsEmptyEntries() throws {
        func entry(_ start: UInt64, _ end: UInt64, kind: UInt32, state: UInt32, name: String) -> [UInt8] {
            var bytes: [UInt8] = []
            for value in [start, end] { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
            for value in [kind, state] { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
            let nameBytes = Array(name.utf8)
            return bytes + nameBytes + [UInt8](repeating: 0, count: 24 - nameBytes.count)
        }
        let section = entry(0x20_0000, 0x20_1000, kind: 4, state: 2, name: "ghcb") + entry(0x30_0000, 0x30_0000, kind: 1, state: 1, name: "empty")
        let plan = try PopulationPlan.decode(section[...])
        XCTAssertEqual(plan.ranges, [range("ghcb", 0x20_0000, 0x20_1000, .shared, .shared)])
        XCTAssertThrowsError(try PopulationPlan.decode(entry(0, 0x1000, kind: 9, state: 1, name: "x")[...])) {
            XCTAssertEqual($0 as? PlanError, .unknownKind(name: "x", code: 9))
        }
        XCTAssertThrowsError(try PopulationPlan.decode(Array(section.prefix(50))[...]))
    }
}
