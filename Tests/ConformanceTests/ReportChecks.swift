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
        XCTAssertEqual(root.int("tests"), report.results.count, file: file, line: line)
        XCTAssertEqual(root.int("failures"), report.summary.failed, file: file, line: line)
        XCTAssertEqual(root.int("skipped"), report.summary.skipped, file: file, line: line)
        XCTAssertNotNil(root.double("time"), file: file, line: line)

        let suites = root.children(named: "testsuite")
        XCTAssertEqual(Set(suites.compactMap { $0.attribute(forName: "name")?.stringValue }),
                       Set(report.results.map(\.interface.rawValue)), "one testsuite per interface", file: file, line: line)
        var cases: [String: XMLElement] = [:]
        for suite in suites {
            let testcases = suite.children(named: "testcase")
            XCTAssertEqual(suite.int("tests"), testcases.count, file: file, line: line)
            XCTAssertEqual(suite.int("failures"), testcases.filter { !$0.children(named: "failure").isEmpty }.count, file: file, line: line)
            XCTAssertEqual(suite.int("skipped"), testcases.filter { !$0.children(named: "skipped").isEmpty }.count, file: file, line: line)
            XCTAssertNotNil(suite.double("time"), file: file, line: line)
            for testcase in testcases {
                let key = (testcase.attribute(forName: "classname")?.stringValue ?? "?") + " " + (testcase.attribute(forName: "name")?.stringValue ?? "?")
                XCTAssertNil(cases[key], "testcase \(key) appears twice", file: file, line: line)
                XCTAssertNotNil(testcase.double("time"), file: file, line: line)
                cases[key] = testcase
            }
        }
        XCTAssertEqual(cases.count, report.results.count, file: file, line: line)
        for result in report.results {
            let key = "conformance.\(result.interface.rawValue) \(result.scenario) [\(result.transport.rawValue)]"
            guard let testcase = cases[key] else {
                XCTFail("no testcase \(key) in the JUnit XML", file: file, line: line)
                continue
            }
            let failure = testcase.children(named: "failure"), skipped = testcase.children(named: "skipped")
            switch result.status {
            case .pass:
                XCTAssertEqual(failure.count + skipped.count, 0, key, file: file, line: line)
            case .fail:
                XCTAssertEqual(failure.count, 1, key, file: file, line: line)
                XCTAssertEqual(failure.first?.attribute(forName: "message")?.stringValue, result.reason, key, file: file, line: line)
            case .skip:
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
            XCTAssertTrue(["native", "trap"].contains(transport ?? "") || status == "skip",
                          "results[\(index)].transport = \(transport ?? "nil")", file: file, line: line)
            XCTAssertTrue(["pass", "fail", "skip"].contains(status ?? ""), "results[\(index)].status = \(status ?? "nil")", file: file, line: line)
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
        XCTAssertEqual(rows, report.results.map { [$0.scenario, $0.interface.rawValue, $0.transport.rawValue, $0.status.rawValue] },
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
