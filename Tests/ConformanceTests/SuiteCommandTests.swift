import Conformance
import Foundation
import HostRunner
import XCTest

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Issue 10's acceptance, through the command CI runs: a spinning guest, a signal in the
/// middle, a wrong CHECK, no KVM, a bad report path, and the version everywhere.
final class SuiteCommandTests: XCTestCase {
    private func reportsAgree(_ command: SuiteCommand, file: StaticString = #filePath, line: UInt = #line) throws -> SuiteReport {
        let report = try JSONDecoder().decode(SuiteReport.self, from: try Data(contentsOf: command.json))
        try ReportChecks.json(try Data(contentsOf: command.json), matches: report, file: file, line: line)
        try ReportChecks.junit(try String(contentsOf: command.junit, encoding: .utf8), matches: report, file: file, line: line)
        return report
    }

    /// `.spin: jmp .spin` at the top of hostile-kvm's scenario, `--timeout 2`: the suite ends
    /// by itself, that case fails naming the symbol the guest was stuck at, every other case
    /// ran to its usual verdict, and both reports parse.
    func testSpinningCaseTimesOutNamingWhereTheGuestWasAndTheRestRun() throws {
        _ = try SuiteHost.system()
        let command = try SuiteCommand()
        try command.copyStubs(
            from: try SuiteHost.root.get().path, editing: "hostile-kvm.asm", replace: "\nscenario:\n", with: "\nscenario:\n.spin: jmp .spin\n")
        let started = Date()
        let output = try command.run(["conformance", "--timeout", "2", "--junit", command.junit.path, "--report", command.json.path], limit: 90)
        XCTAssertEqual(output.status, 1, output.stdout + output.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 60, "one 2 s watchdog, not a hang")

        let report = try reportsAgree(command)
        let spinning = try XCTUnwrap(report.results.first { $0.scenario == "hostile-kvm" })
        XCTAssertEqual(spinning.status, .fail)
        XCTAssertTrue(spinning.reason?.contains("timed out after 2.0 s") ?? false, spinning.reason ?? "")
        XCTAssertTrue(spinning.reason?.contains("scenario.spin") ?? false, spinning.reason ?? "")
        XCTAssertTrue(output.stdout.contains("scenario.spin"), output.stdout)
        let others = report.results.filter { $0.scenario != "hostile-kvm" }
        XCTAssertEqual(others.count, ConformanceSuite.cases(ConformanceSuite.Options()).count - 1, "every other case is reported")
        for result in others {
            XCTAssertTrue([.pass, .skip].contains(result.status), "\(result.scenario) on \(result.interface): \(result.status) \(result.reason ?? "")")
        }
    }

    /// SIGTERM while a case is still running: both files exist and parse, the cases that
    /// finished keep their verdicts, the rest are "not-run" saying why, exit 128 + 15.
    func testSIGTERMMidRunLeavesParseableReportsWithTheFinishedCases() throws {
        _ = try SuiteHost.system()
        let command = try SuiteCommand()
        try command.copyStubs(
            from: try SuiteHost.root.get().path, editing: "hostile-kvm.asm", replace: "\nscenario:\n", with: "\nscenario:\n.spin: jmp .spin\n")
        let (process, out, err) = try command.start(["conformance", "--timeout", "60", "--junit", command.junit.path, "--report", command.json.path])
        let stdout = SuiteCommand.Reader(out), stderr = SuiteCommand.Reader(err)
        // Wait until some cases have finished (the reports are rewritten as each does) while
        // the spinning one holds the suite.
        let waitUntil = Date().addingTimeInterval(60)
        var finished = 0
        while Date() < waitUntil, process.isRunning {
            let written = (try? Data(contentsOf: command.json)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            finished = (written?["results"] as? [[String: Any]] ?? []).filter { ($0["status"] as? String) == "pass" }.count
            if finished >= 5 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertGreaterThanOrEqual(finished, 5, "cases finished and were written before the signal")
        XCTAssertTrue(process.isRunning, "the spinning case keeps the suite running")
        process.terminate()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 128 + SIGTERM, stdout.text() + stderr.text())

        let report = try reportsAgree(command)
        XCTAssertEqual(report.interrupted, "interrupted by SIGTERM")
        XCTAssertGreaterThanOrEqual(report.summary.passed, finished)
        let spinning = try XCTUnwrap(report.results.first { $0.scenario == "hostile-kvm" })
        XCTAssertEqual(spinning.status, .notRun)
        XCTAssertEqual(spinning.reason, "not run: interrupted by SIGTERM")
        XCTAssertEqual(report.results.count, ConformanceSuite.cases(ConformanceSuite.Options()).count, "every planned case is in the report")
    }

    /// A wrong expectation in a CHECK: the <failure> text and the JSON name the check, its
    /// actual and expected value and the reproduction command; that command, run, fails the
    /// same way.
    func testWrongCheckExplainsItselfAndItsReproductionCommandReproducesIt() throws {
        _ = try SuiteHost.system()
        let command = try SuiteCommand()
        try command.copyStubs(
            from: try SuiteHost.root.get().path, editing: "roundtrip.asm",
            replace: "EXPECT \"roundtrip.shared.readback\", rax, 0", with: "EXPECT \"roundtrip.shared.readback\", rax, 1")
        let output = try command.run([
            "conformance", "--filter", "roundtrip", "--platform", "kvm", "--junit", command.junit.path, "--report", command.json.path,
        ])
        XCTAssertEqual(output.status, 1, output.stdout + output.stderr)
        let report = try reportsAgree(command)
        let result = try XCTUnwrap(report.results.first)
        XCTAssertEqual(report.results.count, 1)
        XCTAssertEqual(result.status, .fail)
        XCTAssertEqual(result.failedCheck, CaseResult.FailedCheck(name: "roundtrip.shared.readback", actual: 0, expected: 1))
        let reproduce = try XCTUnwrap(result.reproduce)
        XCTAssertEqual(reproduce, "ENLIGHTEN_HOME=\(command.home.path) enlighten run roundtrip --platform kvm")
        XCTAssertTrue(output.stdout.contains("reproduce: \(reproduce)"), output.stdout)

        let document = try XMLDocument(contentsOf: command.junit)
        let failure = try XCTUnwrap(try document.nodes(forXPath: "//testcase[@name='roundtrip']/failure").first)
        let text = failure.stringValue ?? ""
        for expected in ["roundtrip.shared.readback", "got 0x0, expected 0x1", "reproduce: \(reproduce)"] {
            XCTAssertTrue(text.contains(expected), "<failure> text lacks \(expected): \(text)")
        }
        let systemOut = try document.nodes(forXPath: "//testcase[@name='roundtrip']/system-out").first?.stringValue ?? ""
        XCTAssertTrue(systemOut.contains("CHECK roundtrip.shared.readback: got 0x0, expected 0x1 FAILED"), systemOut)

        // The command as printed, through the shell, with this build's enlighten on PATH.
        let bin = try SuiteCommand.executable().deletingLastPathComponent().path
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", reproduce]
        shell.environment = ProcessInfo.processInfo.environment.merging(["PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")])
        { $1 }
        let out = Pipe()
        shell.standardOutput = out
        shell.standardError = out
        try shell.run()
        let printed = SuiteCommand.Reader(out).text()
        shell.waitUntilExit()
        XCTAssertEqual(shell.terminationStatus, 1, printed)
        XCTAssertTrue(printed.contains("check 'roundtrip.shared.readback' failed: got 0x0, expected 0x1"), printed)
    }

    /// No /dev/kvm: every case is reported skipped with the reason, both files are written,
    /// exit 3.
    func testNoKVMSkipsEveryCaseAndStillWritesBothReports() throws {
        let command = try SuiteCommand()
        let output = try command.run(
            ["conformance", "--junit", command.junit.path, "--report", command.json.path],
            environment: ["ENLIGHTEN_KVM": "/nonexistent"])
        XCTAssertEqual(output.status, 3, output.stderr)
        XCTAssertTrue(output.stderr.contains("/nonexistent does not exist"), output.stderr)
        let report = try reportsAgree(command)
        XCTAssertEqual(report.results.count, ConformanceSuite.cases(ConformanceSuite.Options()).count)
        for result in report.results {
            XCTAssertEqual(result.status, .skip)
            XCTAssertTrue(result.reason?.contains("/nonexistent does not exist") ?? false, result.reason ?? "")
        }
    }

    /// A report path that cannot be written is a usage error before anything runs.
    func testUnwritableReportPathIsExitTwoBeforeTheSuiteRuns() throws {
        let command = try SuiteCommand()
        let blocker = command.folder.appendingPathComponent("file")
        try Data().write(to: blocker)
        let started = Date()
        let output = try command.run(["conformance", "--junit", blocker.appendingPathComponent("junit.xml").path])
        XCTAssertEqual(output.status, 2, output.stderr)
        XCTAssertTrue(output.stderr.hasPrefix("error: cannot write the report"), output.stderr)
        XCTAssertEqual(output.stderr.split(separator: "\n").count, 1, output.stderr)
        XCTAssertFalse(output.stdout.contains("scenario"), "nothing ran: \(output.stdout)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    /// `enlighten --version` and the version in both reports are one and the same.
    func testVersionIsTheSameOnTheCommandLineAndInBothReports() throws {
        let command = try SuiteCommand()
        let version = try command.run(["--version"])
        XCTAssertEqual(version.status, 0)
        let printed = version.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertNotNil(printed.range(of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression), printed)
        // The reports of a run without KVM carry it too, so this needs no /dev/kvm.
        _ = try command.run(
            ["conformance", "--filter", "roundtrip", "--junit", command.junit.path, "--report", command.json.path],
            environment: ["ENLIGHTEN_KVM": "/nonexistent"])
        XCTAssertEqual(try command.report()["version"] as? String, printed)
        let document = try XMLDocument(contentsOf: command.junit)
        let properties = try document.nodes(forXPath: "//testsuite/properties/property[@name='enlighten.version']/@value").compactMap(\.stringValue)
        XCTAssertFalse(properties.isEmpty)
        XCTAssertEqual(Set(properties), [printed])
    }

    /// `--list` needs no KVM, is in catalogue order whatever the filter order, and `--json`
    /// gives the same list as JSON.
    func testListNeedsNoKVMAndKeepsCatalogueOrder() throws {
        let command = try SuiteCommand()
        let output = try command.run(
            ["conformance", "--list", "--json", "--filter", "roundtrip", "--filter", "tdx-*"], environment: ["ENLIGHTEN_KVM": "/nonexistent"])
        XCTAssertEqual(output.status, 0, output.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: String]])
        let expected = Catalogue.all.filter { $0.name == "roundtrip" || $0.name.hasPrefix("tdx-") }.flatMap { scenario in
            scenario.platforms.map { "\(scenario.name) \($0.rawValue)" }
        }
        XCTAssertEqual(rows.map { "\($0["scenario"] ?? "?") \($0["interface"] ?? "?")" }, expected)
        let typo = try command.run(["conformance", "--list", "--filter", "roundtirp"])
        XCTAssertEqual(typo.status, 2)
        XCTAssertTrue(typo.stderr.contains("'roundtirp' matches no scenario"), typo.stderr)
    }

    /// One scenario that does not assemble is that case's <error>; every other case still runs.
    func testAScenarioThatFailsToBuildIsAnErrorAndTheRestRun() throws {
        _ = try SuiteHost.system()
        let command = try SuiteCommand()
        try command.copyStubs(
            from: try SuiteHost.root.get().path, editing: "idempotent.asm", replace: "\nscenario:\n", with: "\nscenario:\n    not_an_instruction rax\n")
        let output = try command.run([
            "conformance", "--filter", "idempotent", "--filter", "roundtrip", "--junit", command.junit.path, "--report", command.json.path,
        ])
        XCTAssertEqual(output.status, 1, output.stdout + output.stderr)
        let report = try reportsAgree(command)
        for result in report.results {
            if result.scenario == "idempotent" {
                XCTAssertEqual(result.status, .error, result.reason ?? "")
                XCTAssertTrue(result.reason?.contains("did not build") ?? false, result.reason ?? "")
                XCTAssertTrue(result.reason?.contains("idempotent.asm") ?? false, result.reason ?? "")
            } else {
                XCTAssertEqual(result.status, .pass, "\(result.scenario) on \(result.interface): \(result.reason ?? "")")
            }
        }
        XCTAssertEqual(report.summary.errors, 3)
        XCTAssertEqual(report.summary.passed, 3)
    }

    /// `--transport native` where no selected interface can go native is a usage error, not
    /// a column of #UD failures.
    func testForcedNativeTransportTheHostCannotCarryIsAUsageError() throws {
        let probe = try SuiteHost.probe.get()
        let command = try SuiteCommand()
        let output = try command.run(["conformance", "--transport", "native", "--platform", "kvm"])
        if probe.nativeHypercallDelivered {
            // Where the host does deliver the exit, the forced transport carries the suite.
            return XCTAssertEqual(output.status, 0, output.stdout + output.stderr)
        }
        XCTAssertEqual(output.status, 2, output.stdout + output.stderr)
        XCTAssertTrue(output.stderr.contains("does not deliver KVM_EXIT_HYPERCALL"), output.stderr)
        XCTAssertFalse(output.stdout.contains("FAIL"), output.stdout)
    }

    /// `run` of a converting stub without --platform says what is missing.
    func testRunWithoutAPlatformSaysSo() throws {
        _ = try SuiteHost.system()
        let command = try SuiteCommand()
        let output = try command.run(["run", try SuiteHost.root.get().path + "/GuestStubs/scenarios/roundtrip.asm"])
        XCTAssertEqual(output.status, 2, output.stdout + output.stderr)
        XCTAssertTrue(output.stderr.hasPrefix("error: no platform: pass --platform kvm|ghcb|tdx"), output.stderr)
        XCTAssertEqual(output.stderr.split(separator: "\n").count, 1, output.stderr)
    }

    /// The guest library's own error values (GuestStubs/abi/interfaces.inc, EN_ABI_ERR_*) are
    /// exactly the ones the host names; anything else stays a plain hex value.
    func testLibraryErrorValuesAreTheOnesTheInterfaceLibraryDefines() throws {
        let source = try String(contentsOfFile: try SuiteHost.root.get().path + "/GuestStubs/abi/interfaces.inc", encoding: .utf8)
        var defined: [String: UInt64] = [:]
        for line in source.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count >= 3, words[0].hasPrefix("EN_ABI_ERR_"), words[1] == "equ", words[2].hasPrefix("0x"),
                let value = UInt64(words[2].dropFirst(2), radix: 16)
            else { continue }
            defined[String(words[0])] = value
        }
        XCTAssertFalse(defined.isEmpty, "interfaces.inc defines no EN_ABI_ERR_* values")
        XCTAssertEqual(defined, Dictionary(uniqueKeysWithValues: LibraryError.allCases.map { ($0.name, $0.rawValue) }))
        for (name, value) in defined {
            XCTAssertTrue(LibraryError.describe(value).hasPrefix("0x\(String(value, radix: 16)) (\(name): "), LibraryError.describe(value))
        }
        XCTAssertEqual(LibraryError.describe(0x454E_0000_0000_00FF), "0x454e0000000000ff")
    }

    /// A suite deadline that passes before any case starts: every case is "not-run" with the
    /// deadline as the reason, the reports parse, exit 1.
    func testDeadlineMarksTheCasesItStoppedAsNotRun() throws {
        _ = try SuiteHost.system()
        let command = try SuiteCommand()
        let output = try command.run([
            "conformance", "--deadline", "0.001", "--filter", "roundtrip", "--junit", command.junit.path, "--report", command.json.path,
        ])
        XCTAssertEqual(output.status, 1, output.stdout + output.stderr)
        let report = try reportsAgree(command)
        XCTAssertFalse(report.results.isEmpty)
        for result in report.results {
            XCTAssertEqual(result.status, .notRun)
            XCTAssertEqual(result.reason, "not run: the suite deadline of 0.001 s passed")
        }
        XCTAssertEqual(report.interrupted, "the suite deadline of 0.001 s passed")
    }

    /// `--json` is the report on stdout (no table), the same document `--report` writes.
    func testJSONFlagPrintsTheReportOnStdout() throws {
        _ = try SuiteHost.system()
        let command = try SuiteCommand()
        let output = try command.run(["conformance", "--json", "--filter", "roundtrip", "--report", command.json.path])
        XCTAssertEqual(output.status, 0, output.stderr)
        let printed = try JSONDecoder().decode(SuiteReport.self, from: Data(output.stdout.utf8))
        try ReportChecks.json(Data(output.stdout.utf8), matches: printed)
        let written = try JSONDecoder().decode(SuiteReport.self, from: try Data(contentsOf: command.json))
        XCTAssertEqual(printed.results, written.results)
        XCTAssertEqual(printed.results.map(\.scenario), ["roundtrip", "roundtrip", "roundtrip"])
    }
}
