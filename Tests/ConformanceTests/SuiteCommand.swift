import Foundation
import XCTest

/// `enlighten conformance` as CI runs it: the built executable, a copy of GuestStubs to
/// break on purpose (ENLIGHTEN_HOME), report files in a temporary folder removed afterwards.
final class SuiteCommand {
    let folder: URL
    var junit: URL { folder.appendingPathComponent("out/junit.xml") }
    var json: URL { folder.appendingPathComponent("out/results.json") }
    var home: URL { folder.appendingPathComponent("home") }

    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("suite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    static func executable() throws -> URL {
        let url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("enlighten")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            XCTFail("no enlighten executable next to the test bundle (\(url.path)): build it with `swift build --build-tests`")
            throw CocoaError(.fileNoSuchFile)
        }
        return url
    }

    /// Copies GuestStubs and Linker into `home`, then replaces `text` with `replacement` in
    /// the scenario `file`; fails the test when `text` is not there (the stub changed).
    func copyStubs(from root: String, editing file: String, replace text: String, with replacement: String) throws {
        for folder in ["GuestStubs", "Linker"] {
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: root + "/" + folder, toPath: home.appendingPathComponent(folder).path)
        }
        let path = home.appendingPathComponent("GuestStubs/scenarios/" + file)
        let source = try String(contentsOf: path, encoding: .utf8)
        guard source.contains(text) else {
            XCTFail("\(file) no longer contains \(text): the test's edit no longer applies")
            throw CocoaError(.fileReadCorruptFile)
        }
        try source.replacingOccurrences(of: text, with: replacement).write(to: path, atomically: true, encoding: .utf8)
    }

    /// Starts `enlighten ARGUMENTS` with ENLIGHTEN_HOME at the copy (when made).
    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = try Self.executable()
        process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if FileManager.default.fileExists(atPath: home.path) { variables["ENLIGHTEN_HOME"] = home.path }
        process.environment = variables
        process.currentDirectoryURL = folder
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    /// Runs to the end, failing (and killing it) if it is still running after `limit` seconds:
    /// "the suite ends on its own" is what these tests check.
    func run(_ arguments: [String], environment: [String: String] = [:], limit: Double = 120) throws -> Output {
        let (process, out, err) = try start(arguments, environment: environment)
        let stdout = Reader(out), stderr = Reader(err)
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        if ended.wait(timeout: .now() + limit) == .timedOut {
            process.terminate()
            process.waitUntilExit()
            XCTFail("enlighten \(arguments.joined(separator: " ")) was still running after \(limit) s")
        }
        return Output(status: process.terminationStatus, stdout: stdout.text(), stderr: stderr.text())
    }

    /// Drains a pipe on its own thread so a chatty child never blocks on a full pipe.
    final class Reader: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ pipe: Pipe) {
            Thread.detachNewThread { [self] in
                data = pipe.fileHandleForReading.readDataToEndOfFile()
                done.signal()
            }
        }

        func text() -> String {
            done.wait()
            return String(decoding: data, as: UTF8.self)
        }
    }

    func report() throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: try Data(contentsOf: json)) as? [String: Any])
    }

    func results() throws -> [[String: Any]] {
        try XCTUnwrap(try report()["results"] as? [[String: Any]])
    }
}
