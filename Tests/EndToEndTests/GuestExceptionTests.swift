import GuestABI
import HostRunner
import XCTest

/// Exceptions the platform gives the guest for what the guest did, delivered to the guest's
/// own handler rather than ending the run: #GP(0) for a PVALIDATE whose address is not
/// canonical (issue 20, finding 7).
final class GuestExceptionTests: XCTestCase {
    /// A non-canonical RAX is #GP(0) at the PVALIDATE with nothing validated (it used to
    /// validate 0x400000, bits 63:48 dropped); RCX/RDX bits 63:32 are not read; ECX 2 is
    /// FAIL_INPUT.
    func testPValidateAnswersItsOperandsAsTheInstructionReadsThem() throws {
        let result = try ConversionRun.run("pvalidate-operands.asm", platform: .ghcb)
        XCTAssertTrue(result.passed, "\(result.failures)")
        XCTAssertEqual(result.check("gp_count")?.actual, 1)
        let served = result.events.compactMap { event -> String? in
            guard case .served(_, .ghcb, let request, let answer) = event, request.hasPrefix("PVALIDATE") else { return nil }
            return answer
        }
        XCTAssertEqual(served, ["#GP(0): RAX 0xdead000000400000 is not canonical (bits 63:47 differ)"])
        let validations = result.events.compactMap(\.validation).map { "\($0.operation) \($0.range): \($0.result)" }
        XCTAssertEqual(validations, [
            "rescind [0x400000, 0x401000): success (RAX 0)",
            "validate [0x400000, 0x401000): success (RAX 0)",
            "rescind [0x400000, 0x401000): FAIL_INPUT (RAX 1)",
        ], "the #GP validated nothing")
    }
}
