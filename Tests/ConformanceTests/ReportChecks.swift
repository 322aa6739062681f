import Conformance
import Foundation
import HostRunner
import XCTest

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads the reports back with tools that know nothing of the reporters (Foundation's XML
/// parser, JSONSerialization) and checks them against the report they were made from.
enum ReportChecks {
    /// The JUnit XML parses, has testsuites/testsuite/testcase, and every count, name,
    /// failure and skip agrees with `report`.
    static func junit(_ xml: String, matches report: SuiteReport, file: StaticString = #filePath, line: UInt = #line) throws {
        let document = try XMLDocument(data: Data(xml.utf8))
        let root = try XCTUnwrap(document.rootElement(), file: file, line: line)
        XCTAssertEqual(root.name, "testsuites", file: file, line: line)
        JUnitSchema.check(root, file: file, line: line)
        XCTAssertEqual(root.int("tests"), report.results.count, file: file, line: line)
        XCTAssertEqual(root.int("failures"), report.summary.failed, file: file, line: line)
        XCTAssertEqual(root.int("errors"), report.summary.errors, file: file, line: line)

        let suites = root.children(named: "testsuite")
        XCTAssertEqual(
            suites.compactMap { $0.attribute(forName: "name")?.stringValue },
            ConversionPlatform.allCases.map(\.rawValue).filter { name in report.results.contains { $0.interface.rawValue == name } },
            "one testsuite per interface, in a fixed order", file: file, line: line)
        var cases: [String: XMLElement] = [:]
        var suiteTimes = 0.0
        for suite in suites {
            let testcases = suite.children(named: "testcase")
            XCTAssertEqual(suite.int("tests"), testcases.count, file: file, line: line)
            XCTAssertEqual(suite.int("failures"), testcases.filter { !$0.children(named: "failure").isEmpty }.count, file: file, line: line)
            XCTAssertEqual(suite.int("errors"), testcases.filter { !$0.children(named: "error").isEmpty }.count, file: file, line: line)
            XCTAssertEqual(suite.int("skipped"), testcases.filter { !$0.children(named: "skipped").isEmpty }.count, file: file, line: line)
            XCTAssertEqual(suite.attribute(forName: "timestamp")?.stringValue, report.timestamp, file: file, line: line)
            XCTAssertEqual(suite.attribute(forName: "hostname")?.stringValue, report.hostname, file: file, line: line)
            let properties = Dictionary(
                (suite.children(named: "properties").first?.children(named: "property") ?? []).map {
                    ($0.attribute(forName: "name")?.stringValue ?? "?", $0.attribute(forName: "value")?.stringValue ?? "?")
                }, uniquingKeysWith: { first, _ in first })
            XCTAssertEqual(properties["enlighten.version"], report.version, file: file, line: line)
            XCTAssertNotNil(properties["kernel"], file: file, line: line)
            let time = try XCTUnwrap(suite.double("time"), file: file, line: line)
            let caseTimes = testcases.compactMap { $0.double("time") }.reduce(0, +)
            XCTAssertEqual(time, caseTimes, accuracy: 0.002 * Double(testcases.count + 1), "a suite's time is its cases' sum", file: file, line: line)
            suiteTimes += time
            for testcase in testcases {
                let key = (testcase.attribute(forName: "classname")?.stringValue ?? "?") + " " + (testcase.attribute(forName: "name")?.stringValue ?? "?")
                XCTAssertNil(cases[key], "testcase \(key) appears twice", file: file, line: line)
                cases[key] = testcase
            }
        }
        XCTAssertEqual(
            try XCTUnwrap(root.double("time"), file: file, line: line), suiteTimes, accuracy: 0.002 * Double(suites.count + 1), file: file, line: line)
        XCTAssertEqual(cases.count, report.results.count, file: file, line: line)
        for result in report.results {
            // Identity is the scenario and the interface, never the transport.
            let key = "\(result.interface.rawValue) \(result.scenario)"
            guard let testcase = cases[key] else {
                XCTFail("no testcase \(key) in the JUnit XML", file: file, line: line)
                continue
            }
            let failure = testcase.children(named: "failure"), error = testcase.children(named: "error"), skipped = testcase.children(named: "skipped")
            switch result.status {
            case .pass:
                XCTAssertEqual(failure.count + error.count + skipped.count, 0, key, file: file, line: line)
            case .fail, .error:
                let element = result.status == .fail ? failure : error
                XCTAssertEqual(element.count, 1, key, file: file, line: line)
                XCTAssertEqual(element.first?.attribute(forName: "message")?.stringValue, result.reason, key, file: file, line: line)
                let text = element.first?.stringValue ?? ""
                XCTAssertTrue(text.contains(result.reason ?? "?"), "\(key): the failure text repeats the reason: \(text)", file: file, line: line)
                if let reproduce = result.reproduce {
                    XCTAssertTrue(text.contains("reproduce: \(reproduce)"), "\(key): \(text)", file: file, line: line)
                }
            case .skip, .notRun:
                XCTAssertEqual(skipped.count, 1, key, file: file, line: line)
                XCTAssertEqual(skipped.first?.attribute(forName: "message")?.stringValue, result.reason, key, file: file, line: line)
            }
        }
    }

    /// The JSON report as a CI script reads it: `results` with scenario, interface, transport,
    /// status, reason and seconds, and a `summary` whose counts match those results.
    /// Returns the results as (scenario, interface, transport, status) for comparisons.
    @discardableResult
    static func json(_ data: Data, matches report: SuiteReport, file: StaticString = #filePath, line: UInt = #line) throws -> [[String]] {
        let top = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], file: file, line: line)
        let results = try XCTUnwrap(top["results"] as? [[String: Any]], file: file, line: line)
        let summary = try XCTUnwrap(top["summary"] as? [String: Any], file: file, line: line)
        XCTAssertEqual(results.count, report.results.count, file: file, line: line)
        var rows: [[String]] = []
        for (index, entry) in results.enumerated() {
            let scenario = entry["scenario"] as? String, interface = entry["interface"] as? String
            let transport = entry["transport"] as? String, status = entry["status"] as? String
            XCTAssertNotNil(scenario, "results[\(index)].scenario", file: file, line: line)
            XCTAssertTrue(["kvm", "ghcb", "tdx"].contains(interface ?? ""), "results[\(index)].interface = \(interface ?? "nil")", file: file, line: line)
            XCTAssertTrue(
                ["native", "trap"].contains(transport ?? "") || status == "skip" || status == "not-run",
                "results[\(index)].transport = \(transport ?? "nil")", file: file, line: line)
            XCTAssertTrue(
                ["pass", "fail", "error", "skip", "not-run"].contains(status ?? ""), "results[\(index)].status = \(status ?? "nil")", file: file, line: line)
            XCTAssertNotNil(entry["seconds"] as? Double, "results[\(index)].seconds", file: file, line: line)
            if status != "pass" {
                XCTAssertFalse((entry["reason"] as? String ?? "").isEmpty, "a \(status ?? "?") result needs its reason", file: file, line: line)
            }
            rows.append([scenario ?? "?", interface ?? "?", transport ?? "?", status ?? "?"])
        }
        let counted = { (status: String) in rows.filter { $0[3] == status }.count }
        XCTAssertEqual(summary["passed"] as? Int, counted("pass"), file: file, line: line)
        XCTAssertEqual(summary["failed"] as? Int, counted("fail"), file: file, line: line)
        XCTAssertEqual(summary["skipped"] as? Int, counted("skip"), file: file, line: line)
        XCTAssertEqual(summary["errors"] as? Int, counted("error"), file: file, line: line)
        XCTAssertEqual(summary["notRun"] as? Int, counted("not-run"), file: file, line: line)
        XCTAssertEqual(top["version"] as? String, report.version, file: file, line: line)
        XCTAssertEqual((top["properties"] as? [String: String])?["enlighten.version"], report.version, file: file, line: line)
        XCTAssertEqual(
            rows, report.results.map { [$0.scenario, $0.interface.rawValue, $0.transport.rawValue, $0.status.rawValue] },
            file: file, line: line)
        return rows
    }
}

extension XMLElement {
    func children(named name: String) -> [XMLElement] {
        (children ?? []).compactMap { $0 as? XMLElement }.filter { $0.name == name }
    }

    func int(_ attribute: String) -> Int? { self.attribute(forName: attribute)?.stringValue.flatMap { Int($0) } }
    func double(_ attribute: String) -> Double? { self.attribute(forName: attribute)?.stringValue.flatMap { Double($0) } }
}
