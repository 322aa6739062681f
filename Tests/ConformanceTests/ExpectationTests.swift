import Conformance
import Foundation
import GuestPhysical
import HostRunner
import XCTest

/// Expectation.evaluate on real runs (RunResult has no public initializer): each kind says nil
/// when met and, when not, a sentence naming exactly what differed.
final class ExpectationTests: XCTestCase {
    /// Tests/EndToEndTests/Stubs/checks.asm: CHECK answer 42 = 42 (passes), CHECK
    /// deliberately-wrong 7 ≠ 8 (fails), VALUE cookie 0x1234, exit code 0; no platform.
    private static let checks: Result<RunResult, any Error> = Result {
        try SuiteHost.runImage(try SuiteHost.testStub("checks.asm"), platform: nil)
    }
    /// GuestStubs/scenarios/hostile-kvm.asm on KVM: four refused hypercalls, one to a GPA outside
    /// guest memory, then [0x400000, 0x401000) to shared and back.
    private static let hostileKVM: Result<RunResult, any Error> = Result {
        try SuiteHost.runImage("hostile-kvm", platform: .kvm)
    }

    private static let page = (start: UInt64(0x40_0000), end: UInt64(0x40_1000))
    private static let unbacked = (start: UInt64(0x100_0000_0000), end: UInt64(0x100_0000_1000))

    /// What hostile-kvm asks, in order.
    private static var hostileConversions: [ExpectedConversion] {
        [
            ExpectedConversion(unbacked.start, unbacked.end, to: .private, form: .request(.kvmHypercall), outcome: .outsideGuestMemory),
            ExpectedConversion(page.start, page.end, to: .shared, form: .request(.kvmHypercall)),
            ExpectedConversion(page.start, page.end, to: .private, form: .request(.kvmHypercall)),
        ]
    }

    func testGuestPassesNamesTheFailedCheck() throws {
        XCTAssertEqual(
            Expectation.guestPasses.evaluate(try Self.checks.get()),
            "guest: check 'deliberately-wrong' failed: got 0x7, expected 0x8")
        XCTAssertNil(Expectation.guestPasses.evaluate(try Self.hostileKVM.get()))
    }

    func testValueAndCheck() throws {
        let result = try Self.checks.get()
        XCTAssertNil(Expectation.value("cookie", equals: 0x1234).evaluate(result))
        XCTAssertEqual(Expectation.value("cookie", equals: 0x1235).evaluate(result), "VALUE 'cookie' is 0x1234, expected 0x1235")
        XCTAssertEqual(Expectation.value("biscuit", equals: 0).evaluate(result), "the guest sent no VALUE 'biscuit'")

        XCTAssertNil(Expectation.check("answer", equals: 42).evaluate(result))
        XCTAssertEqual(Expectation.check("answer", equals: 41).evaluate(result), "CHECK 'answer' saw 0x2a, expected 0x29")
        // The guest's own verdict counts even when the value is the one expected here.
        XCTAssertEqual(Expectation.check("deliberately-wrong", equals: 7).evaluate(result), "CHECK 'deliberately-wrong' failed in the guest")
        XCTAssertEqual(Expectation.check("question", equals: 0).evaluate(result), "the guest sent no CHECK 'question'")
    }

    func testConversionsNameTheFirstDifferingConversionAndField() throws {
        let result = try Self.hostileKVM.get()
        let exact = Self.hostileConversions
        XCTAssertNil(Expectation.conversions(exact).evaluate(result))
        XCTAssertNil(Expectation.conversions(exact, vcpu: 0).evaluate(result))

        func replacing(_ index: Int, with conversion: ExpectedConversion) -> [ExpectedConversion] {
            var list = exact
            list[index] = conversion
            return list
        }
        let page = Self.page
        let cases: [(ExpectedConversion, String)] = [
            (ExpectedConversion(page.start, page.end + 0x1000, to: .shared), "(range)"),
            (ExpectedConversion(page.start, page.end, to: .private), "(direction)"),
            (ExpectedConversion(page.start, page.end, to: .shared, form: .request(.ghcbPSC)), "(interface form)"),
            (ExpectedConversion(page.start, page.end, to: .shared, outcome: .outsideGuestMemory), "(outcome)"),
            (
                ExpectedConversion(page.start, page.end, to: .shared, flipped: []),
                "(flipped \(GPARange(start: page.start, end: page.end)), expected )"
            ),
        ]
        for (wrong, field) in cases {
            let message = Expectation.conversions(replacing(1, with: wrong)).evaluate(result) ?? ""
            XCTAssertTrue(message.hasPrefix("conversion 2 of 3: expected \(wrong), got "), message)
            XCTAssertTrue(message.hasSuffix(field), "\(message) should end in \(field)")
        }

        XCTAssertEqual(
            Expectation.conversions(Array(exact.prefix(2))).evaluate(result),
            "expected 2 conversions, the host served 3; the first extra: [0x400000, 0x401000) → private via KVM_HC_MAP_GPA_RANGE converted")
        let one = ExpectedConversion(page.start, page.end, to: .shared)
        XCTAssertEqual(
            Expectation.conversions(exact + [one]).evaluate(result),
            "conversion 4 of 4: expected \(one), the host served only 3")
        // A vCPU that served nothing.
        XCTAssertEqual(
            Expectation.conversions([one], vcpu: 1).evaluate(result),
            "conversion 1 of 1: expected \(one), the host served only 0")
        XCTAssertNil(Expectation.conversions([], vcpu: 1).evaluate(result))
    }

    func testRejectionsFinalStateAndCustom() throws {
        let result = try Self.hostileKVM.get()
        XCTAssertNil(Expectation.rejections(4).evaluate(result))
        XCTAssertEqual(Expectation.rejections(5).evaluate(result), "expected 5 refused requests, the host refused 4")

        let area = GPARange(start: 0x40_0000, end: 0x60_0000)
        XCTAssertNil(Expectation.finalState(area, .private).evaluate(result))
        XCTAssertEqual(Expectation.finalState(area, .shared).evaluate(result), "\(area) ended private, expected shared")
        // The run's RAM is 64 MiB: beyond it nothing is tracked.
        let beyond = GPARange(start: 0x3FF_F000, end: 0x400_1000)
        XCTAssertEqual(Expectation.finalState(beyond, .private).evaluate(result), "\(beyond) is not wholly tracked at the end")

        XCTAssertNil(Expectation.custom("three conversions") { $0.conversions.count == 3 ? nil : "not three" }.evaluate(result))
        XCTAssertEqual(
            Expectation.custom("none") { $0.conversions.isEmpty ? nil : "\($0.conversions.count) conversions" }.evaluate(result),
            "3 conversions")
    }

    /// The catalogue's own expectations for hostile-kvm hold on the run (the suite applies the
    /// same list), and break as soon as the run differs from them.
    func testCatalogueExpectationsForHostileKVM() throws {
        let result = try Self.hostileKVM.get()
        let scenario = try XCTUnwrap(Catalogue.all.first { $0.name == "hostile-kvm" })
        XCTAssertEqual(scenario.platforms, [.kvm])
        XCTAssertEqual(scenario.expectations(.kvm).compactMap { $0.evaluate(result) }, [])
        // checks.asm under the same expectations fails at the first one, the guest's verdict.
        let other = try Self.checks.get()
        XCTAssertEqual(scenario.expectations(.kvm).first?.evaluate(other), "guest: check 'deliberately-wrong' failed: got 0x7, expected 0x8")
    }
}
