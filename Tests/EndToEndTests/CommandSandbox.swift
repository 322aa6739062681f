import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The real `enlighten` run in a folder of its own with a private TMPDIR, so a test can see
/// exactly what it leaves behind there and which of its tools are still running.
final class CommandSandbox {
    let folder: URL
    /// The TMPDIR the command gets: empty before, and must be empty after.
    var temporary: URL { folder.appendingPathComponent("tmp") }
    /// What was in TMPDIR when the last command started (empty unless an earlier one failed).
    private var baseline: Set<String> = []

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-sandbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tmp"), withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
        /// Killed by a signal rather than exiting (Process reports the signal as the status).
        let uncaughtSignal: Bool
    }

    /// Starts `enlighten arguments` in `folder`, TMPDIR private, stdout and stderr to files.
    func start(_ arguments: [String], environment: [String: String] = [:], for testCase: AnyClass) throws -> Process {
        let process = Process()
        process.executableURL = try EnlightenCLI.binary(for: testCase)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["TMPDIR": temporary.path, "ENLIGHTEN_HOME": KVMHost.root.path].merging(environment) { $1 }
        ) { $1 }
        process.currentDirectoryURL = folder
        baseline = Set(leftovers())
        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("stdout").path, contents: nil)
        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("stderr").path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: folder.appendingPathComponent("stdout"))
        process.standardError = try FileHandle(forWritingTo: folder.appendingPathComponent("stderr"))
        try process.run()
        return process
    }

    /// Waits for `process` (at most `limit` seconds, then kills it and fails).
    func finish(_ process: Process, limit: Double = 120, file: StaticString = #filePath, line: UInt = #line) -> Output {
        let deadline = Date().addingTimeInterval(limit)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            XCTFail("still running after \(limit) s", file: file, line: line)
        }
        process.waitUntilExit()
        let read = { (name: String) in (try? String(contentsOf: self.folder.appendingPathComponent(name), encoding: .utf8)) ?? "" }
        return Output(
            status: process.terminationStatus, stdout: read("stdout"), stderr: read("stderr"),
            uncaughtSignal: process.terminationReason == .uncaughtSignal)
    }

    func run(_ arguments: [String], environment: [String: String] = [:], for testCase: AnyClass) throws -> Output {
        finish(try start(arguments, environment: environment, for: testCase))
    }

    /// What is in the private TMPDIR.
    func leftovers() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []).sorted()
    }

    /// Waits until the command has made something in its TMPDIR (its run folder); false when
    /// it ended or `limit` passed first.
    func waitForTemporaryFiles(of process: Process, limit: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline, process.isRunning {
            if !Set(leftovers()).subtracting(baseline).isEmpty { return true }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return false
    }

    /// Waits, polling as fast as it can, until the command's TMPDIR holds nothing new again
    /// (its run folder removed) or it ended.
    func waitForTemporaryFilesToGo(of process: Process, limit: Double = 60) {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline, process.isRunning, !Set(leftovers()).subtracting(baseline).isEmpty {}
    }

    /// Processes other than zombies whose command line names the private TMPDIR: tools
    /// (nasm, ld.lld) the command started there and left running. Given a moment, as a
    /// SIGKILLed tool takes a few milliseconds to go.
    func toolsStillRunning() -> [String] {
        var running: [String] = []
        for _ in 0..<200 {
            running = Self.processes().filter { $0.contains(temporary.path) }
            if running.isEmpty { return [] }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return running
    }

    private static func processes() -> [String] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { $0.allSatisfy(\.isNumber) }
        return pids.compactMap { pid in
            // A zombie's cmdline is empty: it runs nothing.
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
            return "\(pid): " + String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        }
    }

    /// A stub nasm takes about a second to assemble (200,000 `nop`s), so a signal can land
    /// while the build runs.
    func slowStub() throws -> String {
        let path = folder.appendingPathComponent("slow.asm").path
        try """
        %include "enlighten.inc"
        global main
        section .text
        main:
        %rep 200000
            nop
        %endrep
            xor eax, eax
            ret

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
