import Foundation
import XCTest

/// `enlighten build` against hostile inputs (issue 20): a poisoned image cache and a stub of
/// 10^5 plan ranges, through the real executable.
final class BuildCommandTests: XCTestCase {
    /// Another valid image copied over `hello`'s cache entry made `build hello` write that
    /// image, silently. Now the entry is refused, the build says so on stderr (stdout keeps
    /// its usual summary), and writes hello.
    func testAPoisonedCacheEntryIsRebuiltAndSaid() throws {
        let sandbox = try CommandSandbox()
        let cache = sandbox.folder.appendingPathComponent("cache")
        let environment = ["ENLIGHTEN_CACHE_DIR": cache.path]
        let images = cache.appendingPathComponent("images").path
        func entries() -> Set<String> { Set((try? FileManager.default.contentsOfDirectory(atPath: images)) ?? []) }

        XCTAssertEqual(try sandbox.run(["build", "hello", "--layout", "direct64", "-o", "fresh"], environment: environment, for: Self.self).status, 0)
        let hello = try XCTUnwrap(entries().first)
        XCTAssertEqual(entries().count, 1)
        XCTAssertEqual(try sandbox.run(["build", "roundtrip", "--layout", "direct64", "-o", "other"], environment: environment, for: Self.self).status, 0)
        let roundtrip = try XCTUnwrap(entries().subtracting([hello]).first)
        try FileManager.default.removeItem(atPath: images + "/" + hello)
        try FileManager.default.copyItem(atPath: images + "/" + roundtrip, toPath: images + "/" + hello)

        let output = try sandbox.run(["build", "hello", "--layout", "direct64", "-o", "poisoned"], environment: environment, for: Self.self)
        XCTAssertEqual(output.status, 0, output.stderr)
        let written = try Data(contentsOf: sandbox.folder.appendingPathComponent("poisoned/hello.elf"))
        XCTAssertEqual(written, try Data(contentsOf: sandbox.folder.appendingPathComponent("fresh/hello.elf")), "build hello wrote hello")
        XCTAssertNotEqual(written, try Data(contentsOf: sandbox.folder.appendingPathComponent("other/roundtrip.elf")))
        XCTAssertTrue(
            output.stderr.hasPrefix("warning: image cache entry \(images)/\(hello) for stub 'hello' (direct64) does not match its digest"), output.stderr)
        XCTAssertTrue(output.stdout.contains("built hello (direct64)"), output.stdout)
        XCTAssertEqual(output.stderr.split(separator: "\n").count, 1, output.stderr)
    }

    /// 10^5 PLAN_RANGEs, both layouts: exit 2 after 17.7 s naming no stub, before. Now the
    /// limit stops nasm at entry 1025: exit 2 at once, naming the stub's file and line.
    func testAHundredThousandPlanRangesFailFastNamingTheStub() throws {
        let sandbox = try CommandSandbox()
        let stub = sandbox.folder.appendingPathComponent("ranges.asm")
        let ranges = (0..<100_000).map { index -> String in
            let start = 0x40_0000 + index * 0x2000
            return "PLAN_RANGE 0x\(String(start, radix: 16)), 0x\(String(start + 0x1000, radix: 16)), PLAN_ZERO, PLAN_PRIVATE, \"r\(index)\""
        }
        try ("%include \"enlighten.inc\"\nglobal main\nsection .text\nmain:\n    xor eax, eax\n    ret\n" + ranges.joined(separator: "\n") + "\n")
            .write(to: stub, atomically: true, encoding: .utf8)
        let started = Date()
        let output = try sandbox.run(["build", stub.path, "--layout", "all", "-o", "out"], environment: ["ENLIGHTEN_CACHE_DIR": "off"], for: Self.self)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(output.status, 2, output.stderr)
        XCTAssertLessThan(seconds, 5, "stopped at the limit, not after assembling every entry")
        XCTAssertTrue(output.stderr.contains("ranges.asm:1031: fatal: PLAN_RANGE: more than 1024 plan entries"), output.stderr)
        XCTAssertEqual(output.stderr.split(separator: "\n").count, 1, output.stderr)
    }
}
