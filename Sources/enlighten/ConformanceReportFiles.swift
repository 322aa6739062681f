import Conformance
import Foundation
import Payload
import Synchronization

/// The `--junit` and `--report` files of one suite run, kept current: written (each
/// atomically, by rename) before the first case with every case "not run", again as each
/// case finishes, at the end, and on SIGINT/SIGTERM. Whatever stops the suite, CI finds
/// both files, parseable, with every case that finished.
final class ConformanceReportFiles: Sendable {
    private let junit: URL?
    private let json: URL?
    private let planned: [ConformanceSuite.PlannedCase]
    private let context: SuiteContext
    private let state: Mutex<State>

    private struct State {
        var results: [CaseResult?]
        var started = ContinuousClock.now
        /// Set once the final report is written (end of the run or a signal): later writes
        /// must not replace it.
        var closed = false
    }

    init(junit: String?, json: String?, planned: [ConformanceSuite.PlannedCase], context: SuiteContext) {
        self.junit = junit.map { URL(fileURLWithPath: $0) }
        self.json = json.map { URL(fileURLWithPath: $0) }
        self.planned = planned
        self.context = context
        state = Mutex(State(results: Array(repeating: nil, count: planned.count)))
    }

    var isEmpty: Bool { junit == nil && json == nil }

    /// Creates the folders and writes the initial report, so an unwritable path is a usage
    /// error before anything runs. Throws the message to print.
    func prepare() throws(ReportFileError) {
        for url in [junit, json].compactMap({ $0 }) {
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            } catch {
                throw ReportFileError(url: url, reason: "cannot create its folder")
            }
        }
        try state.withLock { state throws(ReportFileError) in try write(snapshot(state, interrupted: nil)) }
    }

    /// One case finished.
    func record(_ index: Int, _ result: CaseResult) {
        state.withLock { state in
            state.results[index] = result
            guard !state.closed else { return }
            try? write(snapshot(state, interrupted: nil))
        }
    }

    /// The run ended: the suite's own report is final.
    func finish(_ report: SuiteReport) throws(ReportFileError) {
        try state.withLock { state throws(ReportFileError) in
            state.closed = true
            try write(report)
        }
    }

    /// A signal: what finished, and every other case not run with `reason`.
    func interrupt(_ reason: String) -> SuiteReport {
        state.withLock { state in
            let report = snapshot(state, interrupted: reason)
            if !state.closed { try? write(report) }
            state.closed = true
            return report
        }
    }

    private func snapshot(_ state: State, interrupted: String?) -> SuiteReport {
        let notRun = "not run: " + (interrupted ?? "the suite had not reached it when this report was written")
        let results = zip(planned, state.results).map { planned, result in
            result ?? CaseResult(scenario: planned.scenario.name, interface: planned.platform, transport: .unavailable,
                                 status: .notRun, reason: notRun, seconds: 0)
        }
        return SuiteReport(results: results, context: context, buildSeconds: 0,
                           runSeconds: (ContinuousClock.now - state.started).seconds, interrupted: interrupted)
    }

    private func write(_ report: SuiteReport) throws(ReportFileError) {
        if let junit { try save(Data(JUnitReporter.xml(report).utf8), to: junit) }
        if let json {
            let data: Data
            do { data = try JSONReporter.data(report) } catch { throw ReportFileError(url: json, reason: "cannot encode the report: \(error)") }
            try save(data, to: json)
        }
    }

    private func save(_ data: Data, to url: URL) throws(ReportFileError) {
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            // Say it in words, not as an NSCocoaErrorDomain code (FileProblem looks at the path
            // where Foundation gives no errno, e.g. a folder in the report's place).
            throw ReportFileError(url: url, reason: FileProblem.reason(error, path: url.path))
        }
    }
}

struct ReportFileError: Error, CustomStringConvertible {
    let url: URL
    let reason: String
    var description: String { "cannot write the report \(url.path): \(reason)" }
}
