import Foundation
import HostRunner
import XCTest

@testable import Conformance

/// A failing case prints `enlighten run …` as the way to see it alone: for every case the
/// catalogue configures beyond its platform, that command, run, must give the same run.
final class ReproductionCommandTests: XCTestCase {
    func testConfiguredCasesReproduceThroughTheirCommand() throws {
        _ = try SuiteHost.system()
        let command = try SuiteCommand()
        var reproduced = 0
        for planned in ConformanceSuite.cases(ConformanceSuite.Options()) {
            var plain = RunOptions()
            plain.platform = planned.platform
            var configured = plain
            planned.scenario.configure(&configured, planned.platform)
            let line = ReproductionCommand.make(stub: planned.scenario.stub, layout: planned.scenario.layout, options: configured, home: nil)
            let bare = ReproductionCommand.make(stub: planned.scenario.stub, layout: planned.scenario.layout, options: plain, home: nil)
            if configured.launchFault != nil {
                XCTAssertTrue(line.contains("# plus the launch fault"), "\(planned.scenario.name): \(line)")
                continue
            }
            let differs =
                (planned.platform == .tdx && configured.tdxAttributes != plain.tdxAttributes) || configured.vcpus != plain.vcpus
                || configured.memory != plain.memory || configured.injectRetries != plain.injectRetries
            // Only a case whose guest must pass says what its run's exit status is.
            let guestPasses = planned.scenario.expectations(planned.platform).contains { if case .guestPasses = $0 { true } else { false } }
            guard differs, guestPasses else { continue }
            XCTAssertNotEqual(line, bare, "\(planned.scenario.name): the command drops the options the suite ran it with")
            let arguments = Array(line.split(separator: " ").dropFirst().map(String.init))
            let output = try command.run(arguments)
            XCTAssertEqual(output.status, 0, "\(planned.scenario.name) on \(planned.platform): `\(line)` gave\n\(output.stdout)\(output.stderr)")
            reproduced += 1
        }
        XCTAssertGreaterThan(reproduced, 0, "the catalogue configures no case beyond its platform: this test checks nothing")
    }
}
