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
            VM through the same machinery as `enlighten run`, and checks both the host's event \
            log and what the guest reports. Prints one line per case and a summary; a failure \
            names the first expectation that differed; a skip says why.

            Exit 0 when every applicable case passed, 1 when one failed, 3 when this host cannot \
            run guests.

            Examples:
              enlighten conformance
              enlighten conformance --interface ghcb --filter hostile
              enlighten conformance --junit out/junit.xml --json out/results.json
            """)

    enum InterfaceChoice: String, ExpressibleByArgument, CaseIterable {
        case kvm, ghcb, tdx, all
        var platforms: [ConversionPlatform] {
            switch self {
            case .kvm: [.kvm]
            case .ghcb: [.ghcb]
            case .tdx: [.tdx]
            case .all: ConversionPlatform.allCases
            }
        }
    }

    @Option(help: "Which interface's cases to run: kvm, ghcb, tdx or all.")
    var interface: InterfaceChoice = .all

    @Option(help: "Only scenarios whose name contains this text.")
    var filter: String?

    @Option(help: "auto (what `enlighten probe` chose per interface), native or trap.")
    var transport: TransportChoice = .auto

    @Option(help: "Write a JUnit XML report here.")
    var junit: String?

    @Option(help: "Write a JSON report here.")
    var json: String?

    @Flag(help: "List the cases without running them.")
    var list = false

    func run() throws {
        let system: KVMSystemHandle
        do { system = try KVMSystemHandle.open() } catch { throw fail(error, .hostUnavailable) }
        let suite = ConformanceSuite(probe: system.probe)
        var options = ConformanceSuite.Options()
        options.interfaces = interface.platforms
        options.filter = filter
        options.transport = transport.forced
        let cases = suite.cases(options)
        if cases.isEmpty { throw fail("no scenario matches --filter \(filter ?? "") on \(interface.rawValue)", .inputError) }
        if list {
            for planned in cases { say("\(planned.scenario.name)  \(planned.platform.rawValue)") }
            return
        }
        let report: SuiteReport
        do {
            let builder = try ImageBuilder(toolchain: try Toolchain.locate(), root: try ProjectRoot.locate())
            say(TableReporter.header)
            report = try suite.run(options, builder: builder, system: system.system) { result in
                say(TableReporter.line(result))
            }
        } catch {
            throw fail(error, .inputError)
        }
        say(TableReporter.summary(report))
        try write(report)
        if !report.allPassed { throw Outcome.checkFailed.exitCode }
    }

    private func write(_ report: SuiteReport) throws {
        do {
            if let junit { try save(Data(JUnitReporter.xml(report).utf8), to: junit) }
            if let json { try save(try JSONReporter.data(report) + Data("\n".utf8), to: json) }
        } catch {
            throw fail("cannot write the report: \(error.localizedDescription)", .inputError)
        }
    }

    private func save(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }
}
