import Foundation
import XCTest

/// `enlighten build` against hostile inputs (issue 20), through the real executable.
final class BuildCommandTests: XCTestCase {
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
