@testable import HostRunner
import GuestPhysical
import KVM
import Payload
import XCTest

/// The plan as SNP LAUNCH_UPDATE / TDX INIT_MEM_REGION input (run only on such hardware; the
/// translation is checked here against the page types of the SNP firmware ABI and TDX's
/// MEASURE flag).
final class HardwarePopulationTests: XCTestCase {
    private let plan = PopulationPlan(ranges: [
        PlanRange(name: "image", range: GPARange(start: 0x10_0000, end: 0x10_4000), kind: .measured, state: .private),
        PlanRange(name: "config", range: GPARange(start: 0x10_4000, end: 0x10_5000), kind: .unmeasured, state: .private),
        PlanRange(name: "bss", range: GPARange(start: 0x10_5000, end: 0x10_9000), kind: .zero, state: .private),
        PlanRange(name: "ghcb", range: GPARange(start: 0x10_9000, end: 0x10_A000), kind: .shared, state: .shared),
    ])

    private func staged(_ entry: PlanRange) -> UInt64 { 0x7F00_0000_0000 + entry.range.start }

    func testSNPLaunchUpdatesFollowThePlanKinds() {
        let updates = HardwarePopulation.snpLaunchUpdates(plan, source: staged)
        XCTAssertEqual(updates, [
            SNPLaunchUpdate(gfnStart: 0x100, sourceAddress: 0x7F00_0010_0000, length: 0x4000, pageType: .normal),
            SNPLaunchUpdate(gfnStart: 0x104, sourceAddress: 0x7F00_0010_4000, length: 0x1000, pageType: .unmeasured),
            SNPLaunchUpdate(gfnStart: 0x105, sourceAddress: 0, length: 0x4000, pageType: .zero),
        ])
        // KVM_SEV_SNP_PAGE_TYPE_NORMAL 1, ZERO 3, UNMEASURED 4 (linux uapi asm/kvm.h).
        XCTAssertEqual(updates.map(\.pageType.rawValue), [1, 4, 3])
    }

    func testTDXInitMemRegionsMeasureOnlyMeasuredRanges() {
        XCTAssertEqual(HardwarePopulation.tdxInitMemRegions(plan, source: staged), [
            TDXInitMemRegion(sourceAddress: 0x7F00_0010_0000, gpa: 0x10_0000, pageCount: 4, measure: true),
            TDXInitMemRegion(sourceAddress: 0x7F00_0010_4000, gpa: 0x10_4000, pageCount: 1, measure: false),
            TDXInitMemRegion(sourceAddress: 0x7F00_0010_5000, gpa: 0x10_5000, pageCount: 4, measure: false),
        ])
    }

    func testSharedStartRangesAreNeverLaunchUpdated() {
        let shared = PopulationPlan(ranges: [
            PlanRange(name: "shared-data", range: GPARange(start: 0x20_0000, end: 0x20_1000), kind: .measured, state: .shared),
        ])
        XCTAssertEqual(HardwarePopulation.snpLaunchUpdates(shared, source: staged), [])
        XCTAssertEqual(HardwarePopulation.tdxInitMemRegions(shared, source: staged), [])
    }
}
