import Conformance
import Foundation
import Payload
import XCTest

@testable import HostRunner

/// The whole catalogue as it runs on the kernels users have: under each kernel profile, with
/// single capabilities masked, and on the memfd stand-in forced where guest_memfd exists.
/// Every case either passes with the strategy the profile implies or is skipped naming the
/// capability it lacks; nothing errors for a missing kernel feature.
final class HostProfileSuiteTests: XCTestCase {
    private func probe(_ profile: HostProfile) throws -> HostProbe {
        try HostProbe.run(system: try SuiteHost.system(), profile: profile)
    }

    private func expectAllPass(_ report: SuiteReport, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(report.results.isEmpty, label, file: file, line: line)
        for result in report.results where result.status != .pass {
            XCTFail("\(label): \(result.scenario) on \(result.interface.rawValue) \(result.status.rawValue): \(result.reason ?? "")", file: file, line: line)
        }
    }

    /// linux-5.15, 6.1, 6.8 and 6.18: every case passes (each of those kernels offers what the
    /// trap transport needs), on the backing and memslot ioctl the profile implies, and the
    /// reports say which.
    func testEveryKernelProfileRunsTheWholeCatalogue() throws {
        for profile in HostProfile.named {
            let probe = try probe(profile)
            let report = try SuiteHost.run(Catalogue.all, probe: probe)
            let label = profile.name
            expectAllPass(report, label)
            let expectedBacking = probe.ramBacking
            if profile.masked.contains(.guestMemfd) { XCTAssertEqual(expectedBacking.kind, .memfd, label) }
            if profile.masked.contains(.userMemory2) { XCTAssertEqual(expectedBacking.memslotCall, .region, label) }
            XCTAssertEqual(report.properties["backing"], expectedBacking.kind.rawValue, label)
            XCTAssertEqual(report.properties["backing.memslot"], expectedBacking.memslotCall.rawValue, label)
            XCTAssertEqual(report.properties["probe.profile"], profile.description, label)
            try ReportChecks.junit(JUnitReporter.xml(report), matches: report)
        }
    }

    /// Without user-space MSR exits the GHCB MSR protocol cannot reach the runner: every ghcb
    /// case is skipped naming KVM_CAP_X86_USER_SPACE_MSR, and so is msr-intercepts on tdx (its
    /// intercepts are MSR exits too); the rest still pass.
    func testAMaskedCapabilitySkipsExactlyTheCasesThatNeedIt() throws {
        let probe = try probe(try HostProfile.resolve(name: nil, masking: ["user_space_msr"]))
        let report = try SuiteHost.run(Catalogue.all, probe: probe)
        XCTAssertFalse(report.results.isEmpty)
        for result in report.results {
            let name = "\(result.scenario) on \(result.interface.rawValue)"
            if result.interface == .sevSNP || result.scenario == "msr-intercepts" {
                XCTAssertEqual(result.status, .skip, name)
                XCTAssertTrue(result.reason?.contains("KVM_CAP_X86_USER_SPACE_MSR") ?? false, "\(name): \(result.reason ?? "")")
            } else {
                XCTAssertEqual(result.status, .pass, "\(name): \(result.reason ?? "")")
            }
        }
        XCTAssertTrue(report.allPassed, "a skip is not a failure")
    }

    /// Without hardware breakpoints nothing can be trapped: every case whose interface the
    /// host cannot deliver natively is skipped naming KVM_GUESTDBG_USE_HW_BP.
    func testNoHardwareBreakpointsSkipsEveryTrappedCaseByName() throws {
        let probe = try probe(try HostProfile.resolve(name: nil, masking: ["hardware_breakpoints"]))
        let report = try SuiteHost.run(Catalogue.all, probe: probe)
        for result in report.results where probe.transports[result.interface] == .unavailable {
            XCTAssertEqual(result.status, .skip, "\(result.scenario) on \(result.interface.rawValue)")
            XCTAssertTrue(result.reason?.contains("KVM_GUESTDBG_USE_HW_BP") ?? false, result.reason ?? "")
        }
        XCTAssertTrue(report.results.contains { $0.status == .skip })
    }

    /// Sync regs and the hypercall exit masked: the runner falls back to the register ioctls
    /// and the trap transport, and every case still passes.
    func testFallbacksForSyncRegsAndTheHypercallExitPass() throws {
        let probe = try probe(try HostProfile.resolve(name: nil, masking: ["sync_regs", "exit_hypercall"]))
        XCTAssertEqual(probe.capabilities.syncRegs, [])
        XCTAssertEqual(probe.transports[.kvm], .trap)
        expectAllPass(try SuiteHost.run(Catalogue.all, probe: probe), "without sync regs and the hypercall exit")
    }

    /// The stand-in forced (on a guest_memfd host this is the second backing; elsewhere it is
    /// the one the probe chose): the same catalogue passes, and the reports say memfd.
    func testTheForcedStandInPassesTheSameCatalogue() throws {
        let probe = try SuiteHost.probe.get()
        let report = try SuiteHost.run(Catalogue.all, probe: probe) { $0.backing = .memfd }
        expectAllPass(report, "--backing memfd")
        XCTAssertEqual(report.properties["backing"], "memfd")
        if probe.ramBacking.kind == .guestMemfd {
            XCTAssertEqual(try SuiteHost.catalogueReport.get().properties["backing"], "guest_memfd", "the default where guest_memfd exists")
        }
    }
}
