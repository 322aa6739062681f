import HostRunner
import XCTest

/// The library's #VC/#VE handler (GuestStubs/abi/vc_forward.asm, ve_forward.asm): its paths
/// the conformance scenarios do not reach (forwarded-intercepts, raw-cpuid-caught and
/// tdx-forwarded-hlt run the others).
final class ForwardingHandlerTests: XCTestCase {
    /// The MSR path, called with a frame the stub builds (the runner raises no #VC 0x7C yet):
    /// the RDMSR and WRMSR reach the hypervisor as MSR NAE events for the frame's RCX, and the
    /// #GP KVM asks for an MSR nobody emulates leaves the #VC unhandled, reported first as
    /// VALUE #VC.exception with the event KVM would inject (svm.c svm_complete_emulated_msr).
    func testAnMSRTheHypervisorRefusesIsReportedNotResumed() throws {
        let result = try ConversionRun.run("vc-forward-msr.asm", platform: .sevSNP)
        XCTAssertTrue(result.passed, "\(result.failures)")
        XCTAssertEqual(result.check("msr.read.handled")?.actual, 0)
        XCTAssertEqual(result.values["#VC.exception"], 0x8000_030D)
        XCTAssertEqual(
            result.rejections.map(\.request), ["RDMSR 0x40001234 NAE event", "WRMSR 0x40001234 NAE event"],
            "one MSR NAE event each, for the frame's RCX")
    }
}
