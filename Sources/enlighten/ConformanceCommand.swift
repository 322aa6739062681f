import ArgumentParser
import Conformance
import Foundation
import HostRunner
import Payload

struct ConformanceRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Run the built-in conformance suite: every scenario on every interface, on this host's KVM.",
        discussion: """
            Builds the scenario images, then runs each applicable scenario × interface as its own \
            VM through the same machinery as `enlighten run`, each under its own watchdog \
            (--timeout), and checks both the host's event log and what the guest reports. Prints \
            one line per case and a summary; a failure names the first expectation that differed, \
            the first failed CHECK and the `enlighten run` command that reproduces it; a skip says why.

            --junit and --report are rewritten (atomically) as cases finish and on SIGINT/SIGTERM/SIGHUP, \
            so they exist and parse whatever stops the run; cases that did not run are marked \
            "not-run". Without /dev/kvm every case is reported skipped with the reason.

            Exit 0 when every applicable case passed, 1 when one failed, errored or did not run, \
            2 on a usage error or a report file that cannot be written (said with its path \
            and errno, and which version the file kept), 3 when this host cannot run guests, \
            128+N when stopped by signal N (after removing its temporary files and writing the \
            reports).

            Space for the reports is held from the start (64 KiB a case, at least 1 MiB, per \
            file, in an unlinked file next to it), so a disk that fills during the run still \
            takes every verdict. A write that fails anyway is reported at once on stderr; the \
            file keeps its last version and the run goes on.

            `--json FILE` of earlier versions is now `--report FILE`; `--json` prints JSON on \
            stdout, as on every command. `--interface` is an alias of `--platform`.

            Examples:
              enlighten conformance
              enlighten conformance --platform ghcb --filter 'hostile-*'
              enlighten conformance --junit out/junit.xml --report out/results.json --timeout 5
              enlighten conformance --list --json
            """)

    enum PlatformChoice: String, ExpressibleByArgument, CaseIterable {
        case kvm, ghcb, tdx, all
        var platforms: [ConversionPlatform] {
            switch self {
            case .kvm: [.kvm]
            case .ghcb: [.sevSNP]
            case .tdx: [.tdx]
            case .all: ConversionPlatform.allCases
            }
        }
    }

    @Option(
        name: [.customLong("platform"), .customLong("interface")], help: "Which interface's cases to run: kvm, ghcb, tdx or all (--interface is an alias).")
    var platform: PlatformChoice = .all

    @Option(help: ArgumentHelp("Only this scenario: an exact name or a glob such as 'hostile-*'. Repeat for several.", valueName: "name|glob"))
    var filter: [String] = []

    @Option(help: "auto (what `enlighten probe` chose per interface), native or trap.")
    var transport: TransportChoice = .auto

    @OptionGroup(title: "Host") var host: HostOptions

    @Option(help: ArgumentHelp("Stop a case's guest and fail the case after this many seconds.", valueName: "seconds"))
    var timeout: Double = RunOptions().timeout

    @Option(help: ArgumentHelp("Start no case after this many seconds of the whole suite; the rest are reported not run.", valueName: "seconds"))
    var deadline: Double?

    @Option(help: ArgumentHelp("Write a JUnit XML report here (kept current while the suite runs).", valueName: "file"))
    var junit: String?

    @Option(help: ArgumentHelp("Write the JSON report here (kept current while the suite runs).", valueName: "file"))
    var report: String?

    @Flag(help: "Print the report (or, with --list, the cases) as JSON on stdout instead of the table.")
    var json = false

    @Flag(help: "List the cases the options select, in the order they run, without running them (needs no KVM).")
    var list = false

    func validate() throws {
        guard timeout.isFinite, timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
        if let deadline { guard deadline.isFinite, deadline > 0 else { throw ValidationError("--deadline must be a positive number of seconds") } }
    }

    func run() throws {
        var options = ConformanceSuite.Options()
        options.interfaces = platform.platforms
        options.filter = CaseFilter(filter)
        options.transport = transport.forced
        options.timeout = timeout
        options.deadline = deadline
        let unmatched = options.filter.unmatched(in: Catalogue.all.map(\.name))
        if !unmatched.isEmpty {
            throw fail(
                "--filter \(unmatched.map { "'\($0)'" }.joined(separator: ", ")) matches no scenario; `enlighten conformance --list` shows them", .inputError)
        }
        let planned = ConformanceSuite.cases(options)
        if planned.isEmpty { throw fail("no scenario selected by --filter applies to \(platform.rawValue)", .inputError) }
        if list { return try printList(planned) }

        let system: KVMSystemHandle
        do {
            system = try KVMSystemHandle.open(host)
        } catch let error as RunError {
            // No KVM: every case skipped with the reason, reports written, exit 3.
            let report = ConformanceSuite.unrun(planned, .skip, "\(error)")
            let files = try prepareFiles(planned, SuiteContext())
            try finish(report, files)
            throw fail(error, .hostUnavailable)
        }
        if transport == .native, let reason = planned.lazy.compactMap({ system.probe.nativeUnavailable($0.platform) }).first,
            planned.allSatisfy({ system.probe.nativeUnavailable($0.platform) != nil })
        {
            throw fail("\(reason); use --transport auto or trap", .inputError)
        }
        options.backing = try host.requestedBacking()
        options.hostProfile = system.probe.profile
        let facts = system.probe.facts(backing: system.backing)
        let context = SuiteContext(facts: facts)
        let files = try prepareFiles(planned, context)
        // On a signal the run folder goes first, then the reports are written, then exit 128+N.
        let scope = RunScope(restoresSignals: false) { _, name in
            let (report, failures) = files.interrupt("interrupted by \(name)")
            let written = failures.isEmpty ? "reports written" : failures.map { "error: \($0)" }.joined(separator: "\n")
            FileHandle.standardError.write(Data("\n\(name): stopped; \(report.summary.notRun) cases not run, \(written)\n".utf8))
        }
        defer { scope.close() }
        let builder: ImageBuilder
        do {
            builder = try ImageBuilder(toolchain: try Toolchain.locate(), root: try ProjectRoot.locate(), runFolder: try scope.folder())
        } catch {
            scope.close()
            try finish(ConformanceSuite.unrun(planned, .error, "\(error)", facts: facts), files)
            throw fail(error, .inputError)
        }
        if !json { say(TableReporter.header) }
        let report = ConformanceSuite(probe: system.probe).run(options, builder: builder, system: system.system, context: context) { index, result in
            files.record(index, result)
            if !json { say(TableReporter.line(result)) }
        }
        // A signal's handler writes the reports and exits: the suite's own must not race it.
        scope.close()
        try finish(report, files)
        if !report.allPassed { throw Outcome.checkFailed.exitCode }
    }

    private func prepareFiles(_ planned: [ConformanceSuite.PlannedCase], _ context: SuiteContext) throws -> ConformanceReportFiles {
        let files = ConformanceReportFiles(junit: junit, json: report, planned: planned, context: context)
        do { try files.prepare() } catch { throw fail(error, .inputError) }
        return files
    }

    /// Writes the final report, prints it, and then, if a file could not take it, fails
    /// naming that file (the verdicts on stdout are still the run's).
    private func finish(_ report: SuiteReport, _ files: ConformanceReportFiles) throws {
        var unwritten: FinalReportError?
        do { try files.finish(report) } catch { unwritten = error }
        if json {
            FileHandle.standardOutput.write(try JSONReporter.data(report))
        } else {
            say(TableReporter.summary(report))
        }
        if let unwritten { throw fail(unwritten, .inputError) }
    }

    private struct Listed: Encodable {
        let scenario: String
        let interface: String
        let stub: String
        let layout: String
    }

    private func printList(_ planned: [ConformanceSuite.PlannedCase]) throws {
        let rows = planned.map {
            Listed(scenario: $0.scenario.name, interface: $0.platform.rawValue, stub: $0.scenario.stub, layout: $0.scenario.layout.rawValue)
        }
        if json { return try printJSON(rows) }
        for row in rows { say("\(row.scenario.padding(toLength: 24, withPad: " ", startingAt: 0))  \(row.interface)") }
    }
}
