import Conformance
import HostRunner
import Payload
import XCTest

/// Our firmware images are real SEV-SNP and TDX guests too: their reset path finds the platform
/// and (SNP) gives the page tables the C-bit itself, as no VMM hands a firmware image tables.
/// So every conversion scenario of the catalogue, built in the firmware layout, must meet the
/// very expectations its direct64 twin meets — with the runner enforcing the RMP / Secure EPT.
final class FirmwareLayoutTests: XCTestCase {
    /// Scenarios whose stub is not layout-neutral: payload-integrity has its own firmware case.
    /// raw-cpuid-caught catches every raw CPUID, and the firmware reset path
    /// (runtime/reset16.asm) executes raw CPUIDs before it has an IDT: on SNP that is a #VC
    /// with no handler and a triple fault, as on the hardware (docs/platform-model.md §6).
    private static let layoutBound: Set<String> = ["payload-integrity", "raw-cpuid-caught"]

    func testEveryConfidentialScenarioPassesInTheFirmwareLayout() throws {
        let scenarios = Catalogue.all.compactMap { scenario -> Scenario? in
            let platforms = scenario.platforms.filter { $0 != .kvm }
            // The ovmf-* cases run a firmware volume, not a stub: they have no layout to vary.
            guard scenario.layout == .direct64, scenario.firmware == nil, !platforms.isEmpty, !Self.layoutBound.contains(scenario.name)
            else { return nil }
            return Scenario(
                name: scenario.name, stub: scenario.stub, proves: scenario.proves, failureMeans: scenario.failureMeans,
                platforms: platforms, layout: .firmware, configure: scenario.configure, skip: scenario.skip,
                expectations: scenario.expectations)
        }
        XCTAssertGreaterThanOrEqual(scenarios.count, 15, "the catalogue's SNP/TDX scenarios")
        let report = try SuiteHost.run(scenarios)
        XCTAssertEqual(report.summary.skipped, 0)
        for result in report.results where result.status != .pass {
            XCTFail("\(result.scenario) on \(result.interface.rawValue), firmware layout: \(result.explanation)")
        }
        XCTAssertTrue(report.results.contains { $0.interface == .sevSNP } && report.results.contains { $0.interface == .tdx })
    }
}
