import Foundation

/// The table people read: scenario × interface × transport → verdict, time, and why.
public enum TableReporter {
    public static func line(_ result: CaseResult) -> String {
        let status =
            switch result.status {
            case .pass: "pass"
            case .fail: "FAIL"
            case .error: "ERROR"
            case .skip: "skip"
            case .notRun: "not-run"
            }
        let columns = [
            result.scenario.padding(toLength: 24, withPad: " ", startingAt: 0),
            result.interface.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0),
            result.transport.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0),
            status.padding(toLength: 7, withPad: " ", startingAt: 0),
            String(format: "%7.1f ms", result.seconds * 1000),
        ]
        var line = columns.joined(separator: "  ") + (result.reason.map { "  \($0)" } ?? "")
        if let failedCheck = result.failedCheck {
            line +=
                "\n    first failed CHECK '\(failedCheck.name)': got 0x\(String(failedCheck.actual, radix: 16)), expected 0x\(String(failedCheck.expected, radix: 16))"
        }
        if result.status == .fail || result.status == .error, let reproduce = result.reproduce { line += "\n    reproduce: \(reproduce)" }
        return line
    }

    public static var header: String {
        ["scenario".padding(toLength: 24, withPad: " ", startingAt: 0), "iface", "transp", "verdict", "     time"].joined(separator: "  ")
    }

    public static func summary(_ report: SuiteReport) -> String {
        var text = String(format: "%d passed, %d failed, %d skipped", report.summary.passed, report.summary.failed, report.summary.skipped)
        if report.summary.errors > 0 { text += ", \(report.summary.errors) errors" }
        if report.summary.notRun > 0 { text += ", \(report.summary.notRun) not run" }
        guard let firmware = report.firmwareRunSeconds else {
            return text + String(format: " in %.2f s (images built in %.2f s)", report.runSeconds, report.buildSeconds)
        }
        return text
            + String(
                format: " in %.2f s: stub scenarios %.2f s, firmware %.2f s (images built in %.2f s)", report.runSeconds,
                report.runSeconds - firmware, firmware, report.buildSeconds)
    }
}
