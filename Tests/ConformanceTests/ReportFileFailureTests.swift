import Conformance
import Foundation
import XCTest

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Issue 20, finding 6: the reports stay true whatever fails while the suite writes them — a
/// disk that fills mid-run, a report folder that goes away, a file-size limit.
///
/// The full disk is real and touches nothing of the host's: a 4 MiB tmpfs mounted inside a
/// private mount namespace (`unshare -m --propagation private`, so the mount is invisible
/// outside and vanishes with the namespace), the reports written into it, and `dd` filling it
/// once five cases have passed. That needs CAP_SYS_ADMIN in a mount namespace: root, or a user
/// namespace where the kernel allows one. RLIMIT_FSIZE would not do: it limits one file's size, not the disk.
final class ReportFileFailureTests: XCTestCase {
    /// Runs `script` as `sh -c script sh ENLIGHTEN OUT`, in a private mount namespace when
    /// `privateMounts`; returns the script's exit status.
    private func runScript(_ script: String, output: URL, privateMounts: Bool = false) throws -> Int32 {
        let process = Process()
        var arguments = ["/bin/sh", "-c", script, "sh", try SuiteCommand.executable().path, output.path]
        if privateMounts {
            // As root, a private mount namespace; otherwise also a user namespace in which this
            // user is root, where the kernel allows one. Where neither works the script's mount
            // fails (status 90) and the test fails saying so: no skip, the tests run as root.
            let namespaces = getuid() == 0 ? ["-m"] : ["-U", "-r", "-m"]
            arguments = ["/usr/bin/unshare"] + namespaces + ["--propagation", "private"] + arguments
        }
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A file the script wrote into `output`, trimmed.
    private func read(_ output: URL, _ name: String) throws -> String {
        try String(contentsOf: output.appendingPathComponent(name), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static let fillMidRun = """
        set -u
        exe=$1; out=$2
        d=$(mktemp -d)
        mount -t tmpfs -o size=4m tmpfs "$d" || exit 90
        "$exe" conformance --junit "$d/out/junit.xml" --report "$d/out/results.json" > "$out/stdout" 2> "$out/stderr" &
        pid=$!
        n=0
        while kill -0 $pid 2>/dev/null; do
          n=$(cat "$d/out/results.json" 2>/dev/null | grep -c '"status" : "pass"')
          [ "$n" -ge 5 ] && break
          sleep 0.02
        done
        echo "$n" > "$out/passes-at-fill"
        dd if=/dev/zero of="$d/fill" bs=64k 2> "$out/dd"
        wait $pid; echo $? > "$out/status"
        cp "$d/out/junit.xml" "$d/out/results.json" "$out/"
        ls -a "$d/out" > "$out/listing"
        umount "$d"; rmdir "$d"
        """

    /// The disk fills after five cases: every case still gets its verdict in both files (the
    /// space held from the start takes them), the run passes, nothing is said on stderr and no
    /// temporary file is left. It used to exit 2 with the cases after the fill "not run".
    func testADiskThatFillsMidRunStillTakesEveryVerdict() throws {
        _ = try SuiteHost.system()
        let command = try SuiteCommand()
        let status = try runScript(Self.fillMidRun, output: command.folder, privateMounts: true)
        XCTAssertNotEqual(status, 90, "could not mount a private tmpfs (unshare needs root or user namespaces)")
        XCTAssertEqual(status, 0, "the script")
        let passesAtFill = try XCTUnwrap(Int(try read(command.folder, "passes-at-fill")))
        let planned = ConformanceSuite.cases(ConformanceSuite.Options()).count
        XCTAssertGreaterThanOrEqual(passesAtFill, 5)
        XCTAssertLessThan(passesAtFill, planned, "the disk filled before the suite ended")
        XCTAssertTrue(try read(command.folder, "dd").contains("No space left on device"), "dd filled the disk")
        let stderr = try read(command.folder, "stderr")
        XCTAssertEqual(try read(command.folder, "status"), "0", stderr)
        XCTAssertEqual(stderr, "")

        let report = try JSONDecoder().decode(SuiteReport.self, from: try Data(contentsOf: command.folder.appendingPathComponent("results.json")))
        XCTAssertEqual(report.results.count, planned)
        XCTAssertEqual(report.summary.notRun, 0, "every case that ran keeps its verdict")
        XCTAssertEqual(report.summary.passed, planned)
        let xml = try String(contentsOf: command.folder.appendingPathComponent("junit.xml"), encoding: .utf8)
        try ReportChecks.junit(xml, matches: report)
        XCTAssertEqual(
            try read(command.folder, "listing").split(separator: "\n").sorted(), [".", "..", "junit.xml", "results.json"],
            "no temporary or reserve file left")
    }

    private static let folderGoesAway = """
        set -u
        exe=$1; out=$2
        cd "$out"
        "$exe" conformance --junit out/junit.xml --report out/results.json > stdout 2> stderr &
        pid=$!
        n=0
        while kill -0 $pid 2>/dev/null; do
          n=$(cat out/results.json 2>/dev/null | grep -c '"status" : "pass"')
          [ "$n" -ge 5 ] && break
          sleep 0.02
        done
        mv out kept && touch out
        wait $pid; echo $? > status
        """

    /// The report folder is replaced by a file after five cases: each write fails, which is
    /// said once per file as it happens (path, errno, the version kept) and again at the end
    /// (exit 2); the kept files are the last good versions, whole, with their verdicts.
    func testAFailingWriteIsSaidWithItsErrnoAndTheLastGoodReportStays() throws {
        _ = try SuiteHost.system()
        let command = try SuiteCommand()
        let status = try runScript(Self.folderGoesAway, output: command.folder)
        XCTAssertEqual(status, 0, "the script")
        let stderr = try read(command.folder, "stderr")
        XCTAssertEqual(try read(command.folder, "status"), "2", stderr)
        let out = command.folder.appendingPathComponent("out").path
        let lines = stderr.split(separator: "\n").map(String.init)
        for file in ["junit.xml", "results.json"] {
            let warnings = lines.filter { $0.hasPrefix("warning: cannot write the report \(out)/\(file): Not a directory (errno 20, open ") }
            XCTAssertEqual(warnings.count, 1, "said once, when it began: \(stderr)")
            XCTAssertTrue(warnings.first?.contains("; it keeps the version written at ") ?? false, stderr)
            XCTAssertEqual(
                lines.filter { $0.hasPrefix("error: cannot write the report \(out)/\(file): Not a directory (errno 20") }.count, 1,
                "and at the end: \(stderr)")
        }

        // Each kept file is one whole version; the two may be a case apart (the folder went
        // between their writes).
        let kept = command.folder.appendingPathComponent("kept")
        let json = try Data(contentsOf: kept.appendingPathComponent("results.json"))
        let report = try JSONDecoder().decode(SuiteReport.self, from: json)
        try ReportChecks.json(json, matches: report)
        XCTAssertGreaterThanOrEqual(report.summary.passed, 5)
        let verdicts = report.results.count - report.summary.notRun
        XCTAssertTrue(
            lines.contains {
                $0.hasPrefix("warning: cannot write the report \(out)/results.json") && $0.hasSuffix("with \(verdicts) of \(report.results.count) verdicts")
            },
            "the message names the version kept: \(stderr)")
        let junit = try XMLDocument(contentsOf: kept.appendingPathComponent("junit.xml"))
        XCTAssertEqual(junit.rootElement()?.attribute(forName: "tests")?.stringValue, String(report.results.count))
        XCTAssertGreaterThanOrEqual(try junit.nodes(forXPath: "//testcase[not(skipped)]").count, 5)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: kept.path).sorted(), ["junit.xml", "results.json"])
    }

    /// A file-size limit smaller than the first report: the write fails with EFBIG, said with
    /// the path and errno, exit 2. SIGXFSZ used to kill the process silently (status 153).
    func testAFileSizeLimitIsAnErrorNotADeath() throws {
        _ = try SuiteHost.system()
        let command = try SuiteCommand()
        let script = """
            ulimit -f 4
            exec "$1" conformance --report "$2/out/results.json"
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, "sh", try SuiteCommand.executable().path, command.folder.path]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit, stderr)
        XCTAssertEqual(process.terminationStatus, 2, stderr)
        XCTAssertTrue(stderr.hasPrefix("error: cannot write the report \(command.folder.path)/out/results.json: File too large (errno 27, write)"), stderr)
    }
}
