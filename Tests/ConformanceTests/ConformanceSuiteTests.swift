import Conformance
import Foundation
import Payload
import XCTest

@testable import HostRunner

/// Issue 5's acceptance: the real catalogue on this host, its verdicts, and the JUnit and
/// JSON reports read back by parsers that know nothing of the reporters.
final class ConformanceSuiteTests: XCTestCase {
    func testEveryApplicableCasePassesThroughTheProbedTransport() throws {
        let report = try SuiteHost.catalogueReport.get()
        let probe = try SuiteHost.probe.get()
        let planned = ConformanceSuite(probe: probe).cases(ConformanceSuite.Options())
        XCTAssertEqual(
            report.results.map { "\($0.scenario) on \($0.interface.rawValue)" }.sorted(),
            planned.map { "\($0.scenario.name) on \($0.platform.rawValue)" }.sorted(), "every applicable case ran, once")
        XCTAssertEqual(Set(report.results.map(\.interface)), Set(ConversionPlatform.allCases), "every interface has cases")

        // This host kind (docs/host-findings.md §1–§2): the hypercall exit never arrives and there
        // are no SNP/TDX VM types, so every interface must go through the trap transport.
        let trapOnly = !probe.nativeHypercallDelivered && !probe.capabilities.snp && !probe.capabilities.tdx
        for result in report.results {
            let name = "\(result.scenario) on \(result.interface.rawValue)"
            switch result.status {
            case .pass: XCTAssertNil(result.reason, name)
            case .fail, .error, .notRun: XCTFail("\(name) \(result.status.rawValue): \(result.reason ?? "no reason given")")
            case .skip: XCTAssertFalse((result.reason ?? "").isEmpty, "\(name) was skipped without a reason")
            }
            XCTAssertEqual(result.transport, probe.transports[result.interface], name)
            if trapOnly { XCTAssertEqual(result.transport, .trap, name) }
        }
        XCTAssertEqual(
            [report.summary.passed, report.summary.failed, report.summary.skipped],
            [CaseResult.Status.pass, .fail, .skip].map { status in report.results.filter { $0.status == status }.count })
        XCTAssertTrue(report.allPassed)
    }

    func testJUnitXMLOfTheCatalogueParsesAndAgreesWithTheSummary() throws {
        let report = try SuiteHost.catalogueReport.get()
        try ReportChecks.junit(JUnitReporter.xml(report), matches: report)
    }

    func testJSONOfTheCatalogueDecodesWithTheDocumentedKeys() throws {
        let report = try SuiteHost.catalogueReport.get()
        try ReportChecks.json(try JSONReporter.data(report), matches: report)
    }

    /// Issue 5: each result carries `reason` — null when it passed. A consumer must not have
    /// to tell a missing key from a passing case.
    ///
    /// Fails today: CaseResult's synthesized Encodable drops a nil `reason` (encodeIfPresent),
    /// so passing results have no `reason` key at all.
    func testJSONGivesEveryResultAReasonKey() throws {
        let report = try SuiteHost.catalogueReport.get()
        let top = try XCTUnwrap(try JSONSerialization.jsonObject(with: try JSONReporter.data(report)) as? [String: Any])
        let results = try XCTUnwrap(top["results"] as? [[String: Any]])
        let without = results.filter { !$0.keys.contains("reason") }
        XCTAssertEqual(without.count, 0, "\(without.count) of \(results.count) results have no reason key, e.g. \(without.first?.keys.sorted() ?? [])")
    }

    /// Skips always say why: a scenario's own skip, and an interface no transport can carry
    /// here; both reach the JUnit <skipped> element and the JSON reason.
    func testSkippedCasesCarryTheirReasonIntoBothReports() throws {
        let probe = try SuiteHost.probe.get()
        let reason = "needs KVM_EXIT_MEMORY_FAULT, which this host does not deliver"
        let skipsItself = Scenario(
            name: "skips-itself", stub: "hello", proves: "nothing", failureMeans: "nothing",
            platforms: [.kvm], skip: { _, _ in reason }, expectations: { _ in [.guestPasses] })
        let own = try SuiteHost.run([skipsItself])
        XCTAssertEqual(own.results.map(\.status), [.skip])
        XCTAssertEqual(own.results.map(\.reason), [reason])

        // A host whose KVM cannot set hardware breakpoints or exit on the hypercall.
        var blind = probe.capabilities
        blind.guestDebug = []
        let noTransport = HostProbe(capabilities: blind, nativeHypercall: [:], nativeHypercallDelivered: false)
        let runsNowhere = Scenario(
            name: "runs-nowhere", stub: "hello", proves: "nothing", failureMeans: "nothing",
            platforms: [.sevSNP], expectations: { _ in [.guestPasses] })
        let unreachable = try SuiteHost.run([runsNowhere], probe: noTransport)
        XCTAssertEqual(unreachable.results.map(\.status), [.skip])
        XCTAssertTrue(unreachable.results.first?.reason?.contains("ghcb") ?? false, "\(unreachable.results)")

        for report in [own, unreachable] {
            XCTAssertEqual([report.summary.passed, report.summary.failed, report.summary.skipped], [0, 0, 1])
            XCTAssertTrue(report.allPassed, "a skip is not a failure")
            try ReportChecks.junit(JUnitReporter.xml(report), matches: report)
            try ReportChecks.json(try JSONReporter.data(report), matches: report)
        }
    }

    /// The acceptance command itself: `enlighten conformance --junit … --report …` exits 0, and
    /// the files it writes agree with the table it prints.
    func testCommandLineReportsAgreeWithItsTable() throws {
        _ = try SuiteHost.system()
        let root = try SuiteHost.root.get()
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("enlighten")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            return XCTFail("no enlighten executable next to the test bundle (\(executable.path)): build it with `swift build --build-tests`")
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let junit = output.appendingPathComponent("junit.xml"), json = output.appendingPathComponent("results.json")

        let process = Process()
        process.executableURL = executable
        process.arguments = ["conformance", "--junit", junit.path, "--report", json.path]
        process.currentDirectoryURL = URL(fileURLWithPath: root.path)
        let stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        let printed = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, printed)

        let decoded = try JSONDecoder().decode(SuiteReport.self, from: try Data(contentsOf: json))
        let rows = try ReportChecks.json(try Data(contentsOf: json), matches: decoded)
        try ReportChecks.junit(try String(contentsOf: junit, encoding: .utf8), matches: decoded)

        // The table: a header, one line per case (scenario, interface, transport, verdict, time),
        // then the summary line.
        let lines = printed.split(separator: "\n").map(String.init)
        let header = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("scenario") }, printed)
        let summaryIndex = try XCTUnwrap(
            lines.firstIndex { $0.range(of: #"^\d+ passed, \d+ failed, \d+ skipped in "#, options: .regularExpression) != nil }, printed)
        let table = lines[(header + 1)..<summaryIndex].map { line in
            line.split(separator: " ", omittingEmptySubsequences: true).prefix(4).map { $0.lowercased() }
        }
        XCTAssertEqual(table.map { $0.joined(separator: " ") }.sorted(), rows.map { $0.joined(separator: " ") }.sorted())
        let counts = lines[summaryIndex].split(separator: " ").compactMap { Int($0) }
        XCTAssertEqual(Array(counts.prefix(3)), [decoded.summary.passed, decoded.summary.failed, decoded.summary.skipped])
        XCTAssertEqual(decoded.summary.failed, 0)
    }
}
