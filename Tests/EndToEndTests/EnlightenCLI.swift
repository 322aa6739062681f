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
        /// The run's own peak resident set (getrusage's ru_maxrss, from wait4), in bytes.
        let maximumResidentBytes: Int
    }

    /// Runs `enlighten arguments` with stdout and stderr sent to /dev/null (so the pipe
    /// cannot be what buffers) and returns the exit status and its peak RSS.
    ///
    /// The child must not be spawned from the test process itself: posix_spawn's vfork child
    /// shares the test's address space until exec, and Linux's exec folds the old address
    /// space's high-water RSS into the new program's ru_maxrss (fs/exec.c exec_mmap,
    /// setmax_mm_hiwater_rss), so the figure would be the whole test process's peak, whatever
    /// tests ran before. A small Python process forks and execs it instead (a fresh signal
    /// struct, a copy of Python's small address space) and reports wait4's ru_maxrss, which is
    /// then exactly the run's.
    static func peak(_ arguments: [String], for testCase: AnyClass) throws -> Peak {
        let path = try binary(for: testCase).path
        let measure = """
            import os, sys
            pid = os.fork()
            if pid == 0:
                null = os.open("/dev/null", os.O_WRONLY)
                os.dup2(null, 1)
                os.dup2(null, 2)
                os.execv(sys.argv[1], sys.argv[1:])
            _, status, usage = os.wait4(pid, 0)
            print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", measure, path] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let words = printed.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard process.terminationStatus == 0, words.count == 2 else {
            throw POSIXError(.EIO, userInfo: [NSLocalizedDescriptionKey: "measuring with python3 failed (\(process.terminationStatus)): \(printed)"])
        }
        // Linux reports ru_maxrss in KiB (getrusage(2)).
        return Peak(status: Int32(truncatingIfNeeded: words[0]), maximumResidentBytes: words[1] * 1024)
    }
}
