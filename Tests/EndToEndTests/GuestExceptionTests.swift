import GuestABI
import HostRunner
import XCTest

/// Exceptions the platform gives the guest for what the guest did, delivered to the guest's
/// own handler rather than ending the run: #DB for single steps and ICEBP on every platform,
/// #GP(0) for a PVALIDATE whose address is not canonical (issue 20, findings 7 and 8).
final class GuestExceptionTests: XCTestCase {
    /// RFLAGS.TF: six plain instructions and one request instruction the runner serves, each
    /// followed by its single-step #DB (DR6.BS), and the guest runs on.
    func testSingleStepTrapsReachTheGuestAfterEveryInstructionServedOrNot() throws {
        for platform in ConversionPlatform.allCases {
            let result = try ConversionRun.run("single-step.asm", platform: platform)
            XCTAssertTrue(result.passed, "\(platform): \(result.failures)")
            XCTAssertEqual(result.check("db_after_request")?.actual, 1, "\(platform): the served request's own trap")
            XCTAssertEqual(result.check("db_not_single_step")?.actual, 0, "\(platform)")
        }
    }

    /// ICEBP (F1): a trap-like #DB after the instruction, no cause in DR6; the guest runs on.
    func testICEBPRaisesADebugExceptionAfterItself() throws {
        for platform in ConversionPlatform.allCases {
            let result = try ConversionRun.run("icebp.asm", platform: platform)
            XCTAssertTrue(result.passed, "\(platform): \(result.failures)")
            XCTAssertEqual(result.check("db_count")?.actual, 1, "\(platform)")
        }
    }

    /// A non-canonical RAX is #GP(0) at the PVALIDATE with nothing validated (it used to
    /// validate 0x400000, bits 63:48 dropped); RCX/RDX bits 63:32 are not read; ECX 2 is
    /// FAIL_INPUT.
    func testPValidateAnswersItsOperandsAsTheInstructionReadsThem() throws {
        let result = try ConversionRun.run("pvalidate-operands.asm", platform: .sevSNP)
        XCTAssertTrue(result.passed, "\(result.failures)")
        XCTAssertEqual(result.check("gp_count")?.actual, 1)
        let served = result.events.compactMap { event -> String? in
            guard case .served(_, .sevSNP, .pvalidate, let answer) = event else { return nil }
            return answer
        }
        XCTAssertEqual(served, ["#GP(0): RAX 0xdead000000400000 is not canonical (bits 63:47 differ)"])
        let validations = result.events.compactMap(\.validation).map { "\($0.operation) \($0.range): \($0.result)" }
        XCTAssertEqual(
            validations,
            [
                "rescind [0x400000, 0x401000): success (RAX 0)",
                "validate [0x400000, 0x401000): success (RAX 0)",
                "rescind [0x400000, 0x401000): FAIL_INPUT (RAX 1)",
            ], "the #GP validated nothing")
    }
}
