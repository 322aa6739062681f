import Foundation
import Synchronization

/// The `--junit` and `--report` files of one suite run, kept current: written (each
/// atomically, by rename: `AtomicReportFile`) before the first case with every case "not
/// run", again as each case finishes, at the end, and on SIGINT/SIGTERM. Whatever stops the
/// suite, CI finds both files, parseable, with every case that finished.
///
/// What they say stays true when writing fails. Space for them is held from the start, so a
/// disk that fills during the run still takes every verdict; a write that fails anyway (the
/// reserve outgrown, the folder gone) is reported at once on stderr with the path and errno,
/// the file keeps its last good version, and the run goes on; the end of the run says which
/// version a file kept.
public final class ConformanceReportFiles: Sendable {
    private let files: [Destination]
    private let planned: [ConformanceSuite.PlannedCase]
    private let context: SuiteContext
    private let state: Mutex<State>
    private let warn: @Sendable (String) -> Void

    private enum Format { case junit, json }

    private struct Destination: @unchecked Sendable {
        let format: Format
        /// Touched only under `state`'s lock.
        let file: AtomicReportFile
    }

    private struct State {
        var results: [CaseResult?]
        var started = ContinuousClock.now
        /// Set once the final report is written (end of the run or a signal): later writes
        /// must not replace it.
        var closed = false
        /// Per file (same order as `files`): the last version written, and the last failure
        /// reported (so a failure that persists is said once).
        var kept: [Kept?]
        var reported: [String?]
    }

    /// A version on disk: when it was written and how many verdicts it holds.
    private struct Kept {
        let written: Date
        let verdicts: Int
    }

    /// Space held per report file: a verdict with its evidence (400 event lines, 20 log
    /// lines) stays well under 64 KiB.
    static let reservePerCase = 64 << 10
    static let minimumReserve = 1 << 20

    public init(
        junit: String?, json: String?, planned: [ConformanceSuite.PlannedCase], context: SuiteContext,
        warn: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data("warning: \($0)\n".utf8)) }
    ) {
        var files: [Destination] = []
        if let junit { files.append(Destination(format: .junit, file: AtomicReportFile(url: URL(fileURLWithPath: junit)))) }
        if let json { files.append(Destination(format: .json, file: AtomicReportFile(url: URL(fileURLWithPath: json)))) }
        self.files = files
        self.planned = planned
        self.context = context
        self.warn = warn
        state = Mutex(
            State(
                results: Array(repeating: nil, count: planned.count),
                kept: Array(repeating: nil, count: files.count), reported: Array(repeating: nil, count: files.count)))
    }

    var isEmpty: Bool { files.isEmpty }

    /// Creates the folders, holds the space, and writes the initial report, so an unwritable
    /// path is a usage error before anything runs. Throws the message to print.
    public func prepare() throws(ReportFileError) {
        let reserve = max(Self.minimumReserve, planned.count * Self.reservePerCase)
        try state.withLock { state throws(ReportFileError) in
            for destination in files { try destination.file.prepare(reserveBytes: reserve) }
            let report = snapshot(state, interrupted: nil)
            for index in files.indices { try write(report, to: index, &state) }
        }
    }

    /// One case finished. A file that cannot be written keeps its last version, and the
    /// failure is said on stderr (once while it lasts).
    public func record(_ index: Int, _ result: CaseResult) {
        state.withLock { state in
            state.results[index] = result
            guard !state.closed else { return }
            let report = snapshot(state, interrupted: nil)
            for file in files.indices {
                do throws(ReportFileError) {
                    try write(report, to: file, &state)
                    state.reported[file] = nil
                } catch {
                    let message = "\(error); \(keptVersion(file, state))"
                    if state.reported[file] != error.description { warn(message) }
                    state.reported[file] = error.description
                }
            }
        }
    }

    /// The run ended: the suite's own report is final. Throws the first file that could not
    /// take it, saying what that file kept.
    public func finish(_ report: SuiteReport) throws(FinalReportError) {
        try state.withLock { state throws(FinalReportError) in
            state.closed = true
            var failures: [String] = []
            for file in files.indices {
                do { try write(report, to: file, &state) } catch { failures.append("\(error); \(keptVersion(file, state))") }
            }
            release()
            if !failures.isEmpty { throw FinalReportError(failures: failures) }
        }
    }

    /// A signal: what finished, and every other case not run with `reason`. Returns the
    /// report and the files that could not take it, each with what it kept.
    public func interrupt(_ reason: String) -> (report: SuiteReport, failures: [String]) {
        state.withLock { state in
            let report = snapshot(state, interrupted: reason)
            var failures: [String] = []
            if !state.closed {
                for file in files.indices {
                    do { try write(report, to: file, &state) } catch { failures.append("\(error); \(keptVersion(file, state))") }
                }
            }
            state.closed = true
            release()
            return (report, failures)
        }
    }

    private func release() {
        for destination in files { destination.file.close() }
    }

    private func snapshot(_ state: State, interrupted: String?) -> SuiteReport {
        let notRun = "not run: " + (interrupted ?? "the suite had not reached it when this report was written")
        let results = zip(planned, state.results).map { planned, result in
            result
                ?? CaseResult(
                    scenario: planned.scenario.name, interface: planned.platform, transport: .unavailable,
                    status: .notRun, reason: notRun, seconds: 0)
        }
        return SuiteReport(
            results: results, context: context, buildSeconds: 0,
            runSeconds: (ContinuousClock.now - state.started).seconds, interrupted: interrupted)
    }

    private func write(_ report: SuiteReport, to index: Int, _ state: inout State) throws(ReportFileError) {
        let destination = files[index]
        let data: Data
        switch destination.format {
        case .junit:
            data = Data(JUnitReporter.xml(report).utf8)
        case .json:
            do { data = try JSONReporter.data(report) } catch {
                throw ReportFileError(url: destination.file.url, reason: "cannot encode the report: \(error)")
            }
        }
        try destination.file.write(data)
        state.kept[index] = Kept(written: Date(), verdicts: report.results.count - report.summary.notRun)
    }

    private func keptVersion(_ index: Int, _ state: State) -> String {
        guard let kept = state.kept[index] else { return "no version of it was written" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return "it keeps the version written at \(formatter.string(from: kept.written)), with \(kept.verdicts) of \(planned.count) verdicts"
    }
}

/// The final report could not be written to every file: one line per file, with what it kept.
public struct FinalReportError: Error, CustomStringConvertible {
    public let failures: [String]
    public var description: String { failures.joined(separator: "\nerror: ") }
}
