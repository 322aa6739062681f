import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The `enlighten` executable as a user runs it, from the tests.
enum EnlightenCLI {
    struct NotBuilt: Error, CustomStringConvertible {
        let looked: [String]
        var description: String { "the enlighten executable is not next to the tests (looked in \(looked))" }
    }

    /// `swift test` builds every product into the folder that holds the test bundle.
    static func binary(for testCase: AnyClass) throws -> URL {
        let bundle = Bundle(for: testCase).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("enlighten") }
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw NotBuilt(looked: candidates.map(\.path))
        }
        return binary
    }

    struct Peak {
        let status: Int32
        /// The child's own peak resident set (getrusage's ru_maxrss, from wait4), in bytes.
        let maximumResidentBytes: Int
    }

    /// Runs `enlighten arguments` with stdout and stderr sent to /dev/null (so the pipe
    /// cannot be what buffers) and returns the exit status and the child's peak RSS. wait4
    /// reports exactly this child's usage, unlike RUSAGE_CHILDREN, which is the largest of
    /// every child the test process ever waited for.
    static func peak(_ arguments: [String], for testCase: AnyClass) throws -> Peak {
        let path = try binary(for: testCase).path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
        // Linux reports ru_maxrss in KiB (getrusage(2)).
        return Peak(status: (status >> 8) & 0xFF, maximumResidentBytes: Int(usage.ru_maxrss) * 1024)
    }
}
