import Conformance
import Foundation
import HostRunner
import XCTest

/// "Breaking any interface on purpose": each of Tests/EndToEndTests/Stubs/broken-*.asm is the
/// roundtrip scenario's requests with one deliberate mistake, and a guest that believes it
/// succeeded. Run under the real roundtrip scenario's expectations, each case must fail, and
/// its reason must name the conversion and the field that differ.
final class BrokenInterfaceTests: XCTestCase {
    private struct Broken {
        let stub: String
        let platform: ConversionPlatform
        /// Which conversion of the roundtrip's two the mistake shows in.
        let conversion: Int
        /// The direction the scenario expects there, and the one the mistake asks for.
        let expected: PageState, asked: PageState
    }

    private static let broken = [
        // KVM_HC_MAP_GPA_RANGE going shared with KVM_MAP_GPA_RANGE_ENCRYPTED set.
        Broken(stub: "broken-kvm-encrypted.asm", platform: .kvm, conversion: 1, expected: .shared, asked: .private),
        // PSC entries back to private with operation 2 (SHARED) instead of 1 (PRIVATE).
        Broken(stub: "broken-psc-op.asm", platform: .sevSNP, conversion: 2, expected: .private, asked: .shared),
        // MapGPA going shared without the shared bit in R12.
        Broken(stub: "broken-mapgpa-no-shared-bit.asm", platform: .tdx, conversion: 1, expected: .shared, asked: .private),
    ]

    func testDeliberatelyWrongStubsFailNamingTheDifferingConversion() throws {
        let roundTrip = try XCTUnwrap(Catalogue.all.first { $0.name == "roundtrip" })
        let scenarios = try Self.broken.map { broken in
            Scenario(
                name: "roundtrip", stub: try SuiteHost.testStub(broken.stub), proves: roundTrip.proves,
                failureMeans: roundTrip.failureMeans, platforms: [broken.platform], expectations: roundTrip.expectations)
        }
        let report = try SuiteHost.run(scenarios)
        XCTAssertEqual(report.results.count, Self.broken.count)
        XCTAssertEqual(report.summary.failed, Self.broken.count)
        XCTAssertFalse(report.allPassed)

        let window = "[0x410000, 0x420000)"
        for broken in Self.broken {
            guard let result = report.results.first(where: { $0.interface == broken.platform }) else {
                XCTFail("no result for \(broken.stub)")
                continue
            }
            XCTAssertEqual(result.status, .fail, broken.stub)
            let reason = result.reason ?? ""
            XCTAssertTrue(reason.hasPrefix("conversion \(broken.conversion) of 2: "), "\(broken.stub): \(reason)")
            XCTAssertTrue(reason.hasSuffix("(direction)"), "\(broken.stub): \(reason)")
            XCTAssertTrue(reason.contains("expected \(window) → \(broken.expected.rawValue)"), "\(broken.stub): \(reason)")
            XCTAssertTrue(reason.contains("got \(window) → \(broken.asked.rawValue)"), "\(broken.stub): \(reason)")
        }
        // The failures reach CI as they are.
        try ReportChecks.junit(JUnitReporter.xml(report), matches: report)
        try ReportChecks.json(try JSONReporter.data(report), matches: report)
    }

    /// The broken stubs really are the roundtrip's requests with one mistake: their guests pass
    /// (the mistake is only visible in what the host was asked), so the failure above comes
    /// from the host-side expectation and not from the guest giving up.
    func testBrokenStubsGuestsThemselvesPass() throws {
        for broken in Self.broken {
            let result = try SuiteHost.runImage(try SuiteHost.testStub(broken.stub), platform: broken.platform)
            XCTAssertTrue(result.passed, "\(broken.stub): \(result.failures)")
            XCTAssertNil(Expectation.guestPasses.evaluate(result), broken.stub)
            XCTAssertEqual(result.conversions.count, 2, broken.stub)
            XCTAssertEqual(result.conversions.map(\.record.direction)[broken.conversion - 1], broken.asked, broken.stub)
        }
    }
}
