import Foundation

/// The reference tool the measurement tests compare against: sev-snp-measure 0.0.13 (PyPI).
/// SEV_SNP_MEASURE names an executable; otherwise the tool is installed once into a venv under
/// the package's .build folder (git-ignored, reused by later runs) with python3 -m venv and pip.
public enum SevSnpMeasure {
    public static let version = "0.0.13"

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The executable's path, or why there is none.
    public static func locate() throws(Unavailable) -> String {
        if let path = ProcessInfo.processInfo.environment["SEV_SNP_MEASURE"], !path.isEmpty {
            // The comparisons are exact to one version; say so when another is named.
            if let reported = try? Command.run(path, ["--version"]), !reported.contains(version) {
                print("note: SEV_SNP_MEASURE is \(reported.trimmingCharacters(in: .whitespacesAndNewlines)); the tests are written against \(version)")
            }
            return path
        }
        let venv = packageRoot.appendingPathComponent(".build/sev-snp-measure-\(version)")
        let tool = venv.appendingPathComponent("bin/sev-snp-measure").path
        if FileManager.default.isExecutableFile(atPath: tool) { return tool }
        do {
            _ = try Command.run("/usr/bin/python3", ["-m", "venv", venv.path])
            _ = try Command.run(
                venv.appendingPathComponent("bin/pip").path,
                ["install", "--quiet", "--disable-pip-version-check", "sev-snp-measure==\(version)"])
        } catch {
            try? FileManager.default.removeItem(at: venv)
            throw Unavailable(
                description:
                    "sev-snp-measure \(version) could not be installed (bash scripts/test.sh installs python3-venv first; or set SEV_SNP_MEASURE to an installed one): \(error)"
            )
        }
        return tool
    }

    /// The package root: this file is Tests/Support/SevSnpMeasure.swift.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

/// Runs a program to completion and returns what it printed.
public enum Command {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        /// The run was killed (SIGKILL) because it outlived the `timeout` it was given.
        public var timedOut = false
    }

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `executable`; throws with its standard error when it exits non-zero.
    public static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> String {
        let result = try execute(executable, arguments, in: directory)
        guard result.status == 0 else {
            throw Failed(description: "\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    /// Runs `executable` and returns its status and output, whatever the status. With `timeout`,
    /// a run still going after that many seconds is killed and returned with `timedOut` set, so
    /// a test of a command that must finish fails instead of hanging.
    public static func execute(
        _ executable: String, _ arguments: [String], in directory: URL? = nil,
        timeout: Double? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read stderr on another thread so neither pipe can fill and block the child.
        let errors = ErrorCollector(err.fileHandleForReading)
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        if let timeout { DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog) }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        var result = Result(
            status: process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
            stderr: String(decoding: errors.wait(), as: UTF8.self))
        result.timedOut = process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
        return result
    }

    private final class ErrorCollector: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }
        }

        /// The bytes; `data` is written once before the signal and read once after it.
        func wait() -> Data {
            done.wait()
            return data
        }
    }
}
