import Foundation

/// Runs another program for `bench` and times it from spawn to reaped exit. posix_spawn and
/// waitpid directly, not Foundation's Process: its waitUntilExit polls a run loop, which
/// would add its own latency to the wall times being compared.
enum BenchProcess {
    struct Outcome {
        let status: Int32
        /// What it wrote on stdout (empty unless captured).
        let output: String
        let errorOutput: String
        let seconds: Double
    }

    /// Runs `executable` to completion. stdout goes to a scratch file when `captureOutput`,
    /// else to /dev/null; stderr always to a scratch file, for error messages.
    static func run(_ executable: String, _ arguments: [String], captureOutput: Bool, scratch: String) throws(BenchError) -> Outcome {
        let outPath = scratch + "/stdout", errPath = scratch + "/stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, captureOutput ? outPath : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }

        var pid: pid_t = 0
        let start = ContinuousClock.now
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw .toolFailed("cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw .toolFailed("waitpid(\(executable)): \(String(cString: strerror(errno)))") }
        }
        let elapsed = ContinuousClock.now - start
        let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        return Outcome(
            status: exitStatus(status), output: captureOutput ? read(outPath) : "", errorOutput: read(errPath),
            seconds: elapsed.seconds)
    }

    /// The exit code of a reaped child (WEXITSTATUS), or 128 + the signal that killed it.
    private static func exitStatus(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    /// Where a program of that name is on PATH, if anywhere.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").lazy.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
