import HostRunner
import XCTest

/// Raw CPUID meets what SEV-SNP and TDX hardware give it only under `RunOptions.catchRawCPUID`
/// (KVM answers CPUID itself), and the library's #VC/#VE handler forwards what is intercepted
/// (issue 18). Tests/EndToEndTests/Stubs/raw-cpuid.asm: CPUID leaf 0, then 0x40000000.
final class RawCPUIDTests: XCTestCase {
    func testACaughtCPUIDFaultsAsOnTheHardware() throws {
        let snp = try ConversionRun.run("raw-cpuid.asm", platform: .sevSNP) { $0.catchRawCPUID = true }
        guard case .exception(29, let error, let at, _)? = snp.stops.first?.reason else { return XCTFail("ghcb: \(snp.failures)") }
        XCTAssertEqual(error, 0x72, "SVM_EXIT_CPUID")
        XCTAssertTrue(at.hasPrefix("raw_cpuid_basic"), "every leaf, at the instruction: \(at)")

        let tdx = try ConversionRun.run("raw-cpuid.asm", platform: .tdx) { $0.catchRawCPUID = true }
        guard case .exception(20, _, let tdxAt, _)? = tdx.stops.first?.reason else { return XCTFail("tdx: \(tdx.failures)") }
        XCTAssertTrue(tdxAt.hasPrefix("raw_cpuid_hypervisor"), "leaf 0 is the TDX module's, 0x40000000 is not: \(tdxAt)")
        XCTAssertEqual(tdx.values["#VE.exit_reason"], 10)
        XCTAssertEqual(tdx.values["#VE.exit_qualification"], 0)
    }

    /// What a normal run does not catch: KVM answers every CPUID, on every platform.
    func testANormalRunLetsCPUIDRun() throws {
        for platform in ConversionPlatform.allCases {
            let result = try ConversionRun.run("raw-cpuid.asm", platform: platform)
            XCTAssertTrue(result.passed, "\(platform): \(result.failures)")
        }
    }

    /// KVM hides and drops the guest's own TF while it single-steps the vCPU, so the catch
    /// mode stops a guest that sets TF, saying why, instead of losing its traps.
    func testTheCatchModeStopsAGuestThatSingleStepsItself() throws {
        let result = try ConversionRun.run("single-step.asm", platform: .tdx) { $0.catchRawCPUID = true }
        guard case .platformStopped(let reason)? = result.stops.first?.reason else { return XCTFail("\(result.failures)") }
        XCTAssertTrue(reason.contains("RFLAGS.TF"), reason)
        XCTAssertTrue(reason.contains("--catch-cpuid"), reason)
    }

    /// The catch mode keeps the request sites armed: a conversion scenario's TDCALLs and
    /// VMGEXITs are still served, and its CPUIDs (none raw in the runtime on SNP/TDX) faithful.
    func testRequestSitesAreServedWhileCatching() throws {
        for platform in [ConversionPlatform.sevSNP, .tdx] {
            let result = try ConversionRun.run("roundtrip", platform: platform) { $0.catchRawCPUID = true }
            XCTAssertTrue(result.passed, "\(platform): \(result.failures)")
        }
    }
}
