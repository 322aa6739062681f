import Foundation
import XCTest

/// The `enlighten` executable as a user runs it: exit codes and the keys scripts rely on.
final class CLITests: XCTestCase {
    private enum CLIError: Error { case notBuilt }

    private struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    private func enlighten(_ arguments: [String], environment: [String: String] = [:]) throws -> Output {
        // `swift test` builds every product into the folder that holds the test bundle.
        let bundle = Bundle(for: Self.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("enlighten") }
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            XCTFail("the enlighten executable is not next to the tests (looked in \(candidates.map(\.path)))")
            throw CLIError.notBuilt
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: KVMHost.root.path)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    func testNoKVMIsExitThreeWithAReason() throws {
        let output = try enlighten(["probe"], environment: ["ENLIGHTEN_KVM": "/nonexistent/kvm"])
        XCTAssertEqual(output.status, 3)
        XCTAssertTrue(output.stderr.contains("/nonexistent/kvm does not exist"), output.stderr)
        let run = try enlighten(["run", "hello"], environment: ["ENLIGHTEN_KVM": "/nonexistent/kvm"])
        XCTAssertEqual(run.status, 3)
    }

    func testProbeJSONOnThisHost() throws {
        _ = try KVMHost.system()
        let output = try enlighten(["probe", "--json"])
        XCTAssertEqual(output.status, 0, output.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["kvm"] as? Bool, true)
        let flags = try XCTUnwrap(json["guestMemfdFlags"] as? [String])
        XCTAssertTrue(flags.contains("MMAP") && flags.contains("INIT_SHARED"), "\(flags)")
        XCTAssertNotNil(json["memoryAttributes"] as? Bool)
        XCTAssertNotNil(json["vmTypes"] as? [String])
        let transports = try XCTUnwrap(json["transports"] as? [String: String])
        XCTAssertEqual(Set(transports.keys), ["kvm", "ghcb", "tdx"])
        // Each value follows from the capabilities printed beside it (HOST-NOTES.md: on these
        // machines no memory attributes, no SNP/TDX, hypercalls never delivered → all "trap").
        if json["nativeHypercallDelivered"] as? Bool == false, json["hardwareBreakpoints"] as? Bool == true {
            XCTAssertEqual(transports["kvm"], "trap")
        }
        if json["snp"] as? Bool == false, json["hardwareBreakpoints"] as? Bool == true, json["userSpaceMSR"] as? Bool == true {
            XCTAssertEqual(transports["ghcb"], "trap")
        }
        if json["tdx"] as? Bool == false, json["hardwareBreakpoints"] as? Bool == true {
            XCTAssertEqual(transports["tdx"], "trap")
        }
    }

    func testInputErrorsAreExitTwoWithOneLine() throws {
        for arguments in [["build", "no-such-stub"], ["run", "hello", "--vcpus", "0"], ["run", "hello", "--memory", "lots"], ["run", "--bogus"]] {
            let output = try enlighten(arguments)
            XCTAssertEqual(output.status, 2, "\(arguments): \(output.stderr)")
            XCTAssertFalse(output.stderr.isEmpty, "\(arguments)")
        }
    }

    func testRunExitCodesFollowTheGuest() throws {
        _ = try KVMHost.system()
        XCTAssertEqual(try enlighten(["run", "hello"]).status, 0)
        let failing = try enlighten(["run", "Tests/EndToEndTests/Stubs/checks.asm"])
        XCTAssertEqual(failing.status, 1)
        XCTAssertTrue(failing.stdout.contains("check 'deliberately-wrong' failed"), failing.stdout)
    }
}
