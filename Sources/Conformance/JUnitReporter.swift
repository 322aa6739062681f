import Foundation

/// JUnit XML as CI systems ingest it: one <testsuite> per interface, one <testcase> per
/// scenario, <failure> with the first differing expectation, <skipped> with the reason.
public enum JUnitReporter {
    public static func xml(_ report: SuiteReport) -> String {
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"]
        lines.append("<testsuites name=\"enlighten conformance\" tests=\"\(report.results.count)\" failures=\"\(report.summary.failed)\" skipped=\"\(report.summary.skipped)\" errors=\"0\" time=\"\(seconds(report.runSeconds))\">")
        let interfaces = report.results.map(\.interface.rawValue).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for interface in interfaces {
            let cases = report.results.filter { $0.interface.rawValue == interface }
            let failed = cases.filter { $0.status == .fail }.count
            let skipped = cases.filter { $0.status == .skip }.count
            let time = cases.reduce(0) { $0 + $1.seconds }
            lines.append("  <testsuite name=\"\(escape(interface))\" tests=\"\(cases.count)\" failures=\"\(failed)\" skipped=\"\(skipped)\" errors=\"0\" time=\"\(seconds(time))\">")
            for result in cases {
                let name = "\(result.scenario) [\(result.transport.rawValue)]"
                let open = "    <testcase classname=\"conformance.\(escape(interface))\" name=\"\(escape(name))\" time=\"\(seconds(result.seconds))\""
                switch result.status {
                case .pass:
                    lines.append(open + "/>")
                case .fail:
                    lines.append(open + ">")
                    lines.append("      <failure message=\"\(escape(result.reason ?? "failed"))\" type=\"expectation\"/>")
                    lines.append("    </testcase>")
                case .skip:
                    lines.append(open + ">")
                    lines.append("      <skipped message=\"\(escape(result.reason ?? "skipped"))\"/>")
                    lines.append("    </testcase>")
                }
            }
            lines.append("  </testsuite>")
        }
        lines.append("</testsuites>")
        return lines.joined(separator: "\n") + "\n"
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            // XML 1.0 forbids most control characters even as references.
            case _ where scalar.value < 0x20 && scalar != "\n" && scalar != "\t": escaped += "?"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    private static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }
}

/// The JSON report: `results` (scenario, interface, transport, status, reason, seconds) and
/// `summary` (passed, failed, skipped), plus build and run times.
public enum JSONReporter {
    public static func data(_ report: SuiteReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(report)
    }
}

/// The table people read: scenario × interface × transport → verdict, time, and why.
public enum TableReporter {
    public static func line(_ result: CaseResult) -> String {
        let status = switch result.status {
        case .pass: "pass"
        case .fail: "FAIL"
        case .skip: "skip"
        }
        let columns = [
            result.scenario.padding(toLength: 24, withPad: " ", startingAt: 0),
            result.interface.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0),
            result.transport.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0),
            status,
            String(format: "%7.1f ms", result.seconds * 1000),
        ]
        return columns.joined(separator: "  ") + (result.reason.map { "  \($0)" } ?? "")
    }

    public static var header: String {
        ["scenario".padding(toLength: 24, withPad: " ", startingAt: 0), "iface", "transp", "verdict", "     time"].joined(separator: "  ")
    }

    public static func summary(_ report: SuiteReport) -> String {
        String(format: "%d passed, %d failed, %d skipped in %.2f s (images built in %.2f s)",
               report.summary.passed, report.summary.failed, report.summary.skipped, report.runSeconds, report.buildSeconds)
    }
}
