import Foundation
import XCTest

/// The `enlighten` executable as a user runs it: exit codes and the keys scripts rely on.
final class CLITests: XCTestCase {
    private struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `enlighten arguments` (or, with `shell`, /bin/sh with `arguments`).
    private func enlighten(_ arguments: [String], environment: [String: String] = [:], shell: Bool = false) throws -> Output {
        let binary = shell ? URL(fileURLWithPath: "/bin/sh") : try EnlightenCLI.binary(for: Self.self)
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
        // Guest RAM follows the capabilities printed beside it: guest_memfd only with MMAP and
        // INIT_SHARED and memslots v2, else the memfd stand-in, with the reason either way.
        let usable = json["guestMemfd"] as? Bool == true && flags.contains("MMAP") && flags.contains("INIT_SHARED") && json["userMemory2"] as? Bool == true
        XCTAssertEqual(json["backing"] as? String, usable ? "guest_memfd" : "memfd")
        XCTAssertEqual(json["population"] as? String, usable ? "guest_memfd-mmap" : "memfd-mmap")
        XCTAssertEqual(json["memslot"] as? String, json["userMemory2"] as? Bool == true ? "KVM_SET_USER_MEMORY_REGION2" : "KVM_SET_USER_MEMORY_REGION")
        XCTAssertFalse((json["backingReason"] as? String ?? "").isEmpty)
        XCTAssertNotNil(json["memoryAttributes"] as? Bool)
        XCTAssertNotNil(json["vmTypes"] as? [String])
        let transports = try XCTUnwrap(json["transports"] as? [String: String])
        XCTAssertEqual(Set(transports.keys), ["kvm", "ghcb", "tdx"])
        // Each value follows from the capabilities printed beside it (docs/host-findings.md §1–§2:
        // on these machines no memory attributes, no SNP/TDX, hypercalls never delivered → all "trap").
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

    /// Where guest RAM lives is the user's to choose and every output says which: the
    /// stand-in forced on any host, guest_memfd refused in one line (exit 2) where the
    /// kernel has none for a default VM, an unknown profile or mask refused by name.
    func testBackingAndHostProfileAreChosenAndRecorded() throws {
        _ = try KVMHost.system()
        let probe = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try enlighten(["probe", "--json"]).stdout.utf8)) as? [String: Any])
        let forced = try enlighten(["run", "roundtrip", "--platform", "tdx", "--backing", "memfd", "--json"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        let run = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(forced.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(run["backing"] as? String, "memfd")
        XCTAssertEqual(run["memslot"] as? String, probe["memslot"] as? String)
        let fromEnvironment = try enlighten(["run", "hello", "--json"], environment: ["ENLIGHTEN_BACKING": "memfd"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(fromEnvironment.stdout.utf8)) as? [String: Any])?["backing"] as? String, "memfd")

        let asked = try enlighten(["run", "hello", "--backing", "guest_memfd"])
        if probe["backing"] as? String == "guest_memfd" {
            XCTAssertEqual(asked.status, 0, asked.stderr)
            XCTAssertTrue(asked.stdout.contains("guest RAM: guest_memfd via KVM_SET_USER_MEMORY_REGION2"), asked.stdout)
        } else {
            XCTAssertEqual(asked.status, 2, asked.stderr)
            XCTAssertEqual(asked.stderr.split(separator: "\n").count, 1, asked.stderr)
            XCTAssertTrue(asked.stderr.hasPrefix("error: --backing guest_memfd: this host cannot give a default VM guest_memfd ("), asked.stderr)
        }

        // As Linux 6.1 leaves a default VM: the stand-in through the original memslot ioctl.
        let old = try enlighten(["run", "roundtrip", "--platform", "kvm", "--host-profile", "linux-6.1", "--json"])
        XCTAssertEqual(old.status, 0, old.stderr)
        let oldRun = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(old.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(oldRun["backing"] as? String, "memfd")
        XCTAssertEqual(oldRun["memslot"] as? String, "KVM_SET_USER_MEMORY_REGION")
        let oldProbe = try enlighten(["probe", "--json"], environment: ["ENLIGHTEN_HOST_PROFILE": "linux-6.1"])
        let oldJSON = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(oldProbe.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(oldJSON["profile"] as? String, "linux-6.1")
        XCTAssertEqual(oldJSON["userMemory2"] as? Bool, false)

        for (arguments, prefix) in [
            (["probe", "--host-profile", "linux-4.4"], "error: unknown host profile 'linux-4.4'"),
            (["run", "hello", "--mask", "everything"], "error: unknown capability 'everything' to mask"),
            (["conformance", "--backing", "tmpfs"], "Error: The value 'tmpfs' is invalid for '--backing"),
        ] {
            let output = try enlighten(arguments)
            XCTAssertEqual(output.status, 2, "\(arguments): \(output.stderr)")
            XCTAssertTrue(output.stderr.hasPrefix(prefix), "\(arguments): \(output.stderr)")
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

    /// Numbers are validated while parsing, each refusal one line of our own (exit 2) — even
    /// with no KVM (which would be exit 3), since nothing runs. `--timeout inf` used to be
    /// accepted and disarm the watchdog; `--vcpus -1` said "Missing value".
    func testRunOptionsAreRefusedAtParseTimeInOneLine() throws {
        let noKVM = ["ENLIGHTEN_KVM": "/nonexistent/kvm"]
        for (option, value) in [
            ("--timeout", "inf"), ("--timeout", "1e300"), ("--timeout", "nan"), ("--timeout", "-5"), ("--timeout", "0"),
            ("--timeout", "3601"), ("--vcpus", "-1"), ("--vcpus", "0"), ("--vcpus", "17"),
            ("--max-events", "0"), ("--max-events", "-3"), ("--inject-retry", "-1"),
        ] {
            let output = try enlighten(["run", "hello", option, value], environment: noKVM)
            XCTAssertEqual(output.status, 2, "\(option) \(value): \(output.stderr)")
            let lines = output.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(option) \(value): \(output.stderr)")
            XCTAssertTrue(lines.first?.hasPrefix("error: \(option) must be") == true, "\(option) \(value): \(output.stderr)")
        }
    }

    /// --catch-cpuid means something only where CPUID is intercepted: refused at parse time
    /// without ghcb or tdx, in one line naming the option.
    func testCatchCPUIDNeedsAnInterceptingPlatform() throws {
        let noKVM = ["ENLIGHTEN_KVM": "/nonexistent/kvm"]
        for platform in [[], ["--platform", "kvm"]] {
            let output = try enlighten(["run", "hello", "--catch-cpuid"] + platform, environment: noKVM)
            XCTAssertEqual(output.status, 2, "\(platform): \(output.stderr)")
            XCTAssertTrue(output.stderr.hasPrefix("error: --catch-cpuid needs --platform ghcb or tdx"), output.stderr)
            XCTAssertEqual(output.stderr.split(separator: "\n").count, 1, output.stderr)
        }
    }

    /// A host that runs out of memory is the host's failure (exit 3), not the input's: here
    /// the guest_memfd mapping of a 3 GiB guest under a 1.5 GB address-space limit.
    func testHostOutOfMemoryIsExitThree() throws {
        _ = try KVMHost.system()
        let binary = try EnlightenCLI.binary(for: Self.self).path
        let output = try enlighten(["-c", "ulimit -v 1500000 && exec \"$0\" run hello --memory 3G", binary], shell: true)
        XCTAssertEqual(output.status, 3, output.stderr)
        XCTAssertTrue(output.stderr.contains("ENOMEM") && output.stderr.contains("out of memory"), output.stderr)
    }

    /// `--transport native` where the probe saw KVM_EXIT_HYPERCALL never arrive is refused
    /// before the guest runs (exit 2, the probe's words), as conformance refuses it.
    func testForcedNativeTransportWhereImpossibleIsExitTwo() throws {
        _ = try KVMHost.system()
        let probe = try enlighten(["probe", "--json"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(probe.stdout.utf8)) as? [String: Any])
        let output = try enlighten(["run", "roundtrip", "--platform", "kvm", "--transport", "native"])
        guard json["nativeHypercallDelivered"] as? Bool == false else {
            // Where the host delivers KVM_EXIT_HYPERCALL, the forced transport works.
            return XCTAssertEqual(output.status, 0, output.stderr)
        }
        XCTAssertEqual(output.status, 2, output.stderr)
        XCTAssertTrue(output.stderr.hasPrefix("error: --transport native: this host's KVM does not deliver KVM_EXIT_HYPERCALL"), output.stderr)
    }

    /// Errors name the file and the reason in words, never a bare "errno 21 (errno)".
    func testErrorsSayWhyInWords() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = try enlighten(["run", "hello"], environment: ["ENLIGHTEN_KVM": folder.path])
        XCTAssertEqual(output.status, 3, output.stderr)
        XCTAssertTrue(output.stderr.contains(folder.path) && output.stderr.contains("is a directory"), output.stderr)
        XCTAssertFalse(output.stderr.contains("(errno)"), output.stderr)

        // An output that is a folder, and a file where the output folder should be.
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("out/hello.elf"), withIntermediateDirectories: true)
        let intoFolder = try enlighten(["build", "hello", "--layout", "direct64", "-o", folder.appendingPathComponent("out").path])
        XCTAssertEqual(intoFolder.status, 2, intoFolder.stderr)
        XCTAssertEqual(intoFolder.stderr, "error: cannot write \(folder.path)/out/hello.elf: Is a directory\n")
        try Data().write(to: folder.appendingPathComponent("file"))
        let ontoFile = try enlighten(["build", "hello", "--layout", "direct64", "-o", folder.appendingPathComponent("file").path])
        XCTAssertEqual(ontoFile.status, 2, ontoFile.stderr)
        XCTAssertEqual(ontoFile.stderr, "error: cannot write \(folder.path)/file: Not a directory\n")
    }
}
