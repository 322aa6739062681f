import Foundation

/// Runs a tool to completion and captures what it said on stderr (nasm and ld.lld report
/// errors there and print nothing useful on stdout).
struct Subprocess {
    struct Result {
        let status: Int32
        let errorOutput: String
    }

    /// Runs `executable`; `folder` learns of it while it runs, so removing the folder (say on
    /// SIGTERM) stops it rather than leaving it writing there.
    static func run(_ executable: String, for folder: RunFolder, _ arguments: [String]) throws(BuildError) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw .toolFailed(tool: executable, message: "could not start: \(error.localizedDescription)")
        }
        let pid = process.processIdentifier
        guard folder.adopt(pid) else {
            kill(pid, SIGKILL)
            process.waitUntilExit()
            throw .toolFailed(tool: executable, message: "stopped: the run is ending and its folder \(folder.path) is gone")
        }
        defer { folder.release(pid) }
        // Reading before waiting: a tool that fills the pipe would otherwise never exit.
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, errorOutput: String(decoding: data, as: UTF8.self))
    }
}
