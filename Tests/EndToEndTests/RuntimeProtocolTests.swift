import HostRunner
import XCTest

/// The runtime's own port I/O and CPUID speak the platform's protocol (issue 18, "our guests become
/// real guests"): on SEV-SNP a GHCB IOIO NAE event, on TDX TDVMCALL<Instruction.IO>, so an
/// image would report on the hardware, where raw `in`/`out` raise #VC / #VE. On KVM the
/// runtime keeps raw port I/O. (GuestStubs/runtime/portio.asm.)
final class RuntimeProtocolTests: XCTestCase {
    private struct Access: Hashable {
        let port: UInt16
        let size: Int
        let write: Bool
    }

    private func forwardedPorts(_ result: RunResult) -> [Access] {
        result.events.compactMap { event in
            guard case .served(_, _, .portIO(let port, let size, _, let write), _) = event else { return nil }
            return Access(port: port, size: size, write: write)
        }
    }

    func testReportsAreForwardedOnSEVSNPAndTDX() throws {
        for platform in [ConversionPlatform.sevSNP, .tdx] {
            let result = try ConversionRun.run("plain-reports.asm", platform: platform)
            XCTAssertTrue(result.passed, "\(platform): \(result.failures)")
            XCTAssertEqual(result.logLines, ["plain reports"], "\(platform)")
            XCTAssertEqual(result.check("plain.one")?.actual, 1, "\(platform)")
            XCTAssertEqual(
                forwardedPorts(result),
                [
                    Access(port: 0xEA, size: 1, write: false), // presence
                    Access(port: 0xEA, size: 4, write: true), // LOG record
                    Access(port: 0xEA, size: 4, write: true), // CHECK record
                    Access(port: 0xEA, size: 4, write: true), // CHECKSUM record
                    Access(port: 0xEA, size: 4, write: true), // VALUE record
                    Access(port: 0xF4, size: 4, write: true), // exit code
                ], "\(platform): every runtime port access forwarded, in order")
        }
    }

    private func forwardedCPUIDLeaves(_ result: RunResult) -> [UInt32] {
        result.events.compactMap { event in
            guard case .served(_, _, .cpuid(let leaf, _), _) = event else { return nil }
            return leaf
        }
    }

    /// The runtime's CPUID needs (the CRC32C's SSE4.2 check, the C-bit position for the
    /// GHCB's shared view, this vCPU's index for its GHCB) never execute a raw `cpuid` on
    /// SEV-SNP or TDX: the first two are asked once through the platform's protocol (GHCB MSR
    /// protocol CPUID request; TDVMCALL Instruction.CPUID), the index comes from the vCPU's
    /// runtime stack without any request.
    func testRuntimeCPUIDIsForwardedOnSEVSNPAndTDX() throws {
        let snp = try ConversionRun.run("plain-reports.asm", platform: .sevSNP)
        XCTAssertTrue(snp.passed, "\(snp.failures)")
        XCTAssertEqual(forwardedCPUIDLeaves(snp).sorted(), [0x1, 0x8000_001F], "SSE4.2 once, the C-bit once, no APIC ID request")
        let tdx = try ConversionRun.run("plain-reports.asm", platform: .tdx)
        XCTAssertTrue(tdx.passed, "\(tdx.failures)")
        XCTAssertEqual(forwardedCPUIDLeaves(tdx), [0x1], "SSE4.2 once; a TD has no C-bit to ask for")
        let kvm = try ConversionRun.run("plain-reports.asm", platform: .kvm)
        XCTAssertEqual(forwardedCPUIDLeaves(kvm), [], "raw CPUID on KVM")
        XCTAssertEqual(kvm.check("plain.one")?.actual, 1)
        // en_platform's first probe, SEV_STATUS, faults where the MSR does not exist and the
        // runtime's fixup turns that into CF = 1 (runtime/idt.asm __en_rdmsr_safe).
        XCTAssertEqual(snp.values["rdmsr_safe.sev_status.faulted"], 0)
        XCTAssertEqual(tdx.values["rdmsr_safe.sev_status.faulted"], 1)
        XCTAssertEqual(kvm.values["rdmsr_safe.sev_status.faulted"], 1)
    }

    func testReportsStayRawPortIOOnKVM() throws {
        let result = try ConversionRun.run("plain-reports.asm", platform: .kvm)
        XCTAssertTrue(result.passed, "\(result.failures)")
        XCTAssertEqual(result.check("plain.one")?.actual, 1)
        XCTAssertEqual(forwardedPorts(result), [], "nothing forwarded: KVM has no protocol for port I/O")
    }

    /// A raw port instruction is intercepted as the hardware does it (issue 18's acceptance):
    /// on SEV-SNP #VC with error code 0x7B, on TDX #VE with VE_INFO exit reason 30 and the I/O
    /// qualification, at the instruction and not executed; the runtime's handler names the
    /// port. On KVM the byte reaches the console and the stub passes.
    func testARawOutFaultsOnSEVSNPAndTDXAndPassesOnKVM() throws {
        let snp = try ConversionRun.run("raw-out.asm", platform: .sevSNP)
        guard case .exception(29, let error, let at, _)? = snp.stops.first?.reason else { return XCTFail("ghcb: \(snp.failures)") }
        XCTAssertEqual(error, 0x7B, "SVM_EXIT_IOIO")
        XCTAssertTrue(at.hasPrefix("raw_out"), "at the instruction, not past it: \(at)")
        XCTAssertEqual(snp.values["#VC.port"], 0xE9)
        XCTAssertTrue(snp.failures.contains { $0.contains("#VC") && $0.contains("0x7b") }, "\(snp.failures)")

        let tdx = try ConversionRun.run("raw-out.asm", platform: .tdx) { $0.tdxAttributes = 0 }
        guard case .exception(20, _, let tdxAt, _)? = tdx.stops.first?.reason else { return XCTFail("tdx: \(tdx.failures)") }
        XCTAssertTrue(tdxAt.hasPrefix("raw_out"), tdxAt)
        XCTAssertEqual(tdx.values["#VE.exit_reason"], 30)
        XCTAssertEqual(tdx.values["#VE.exit_qualification"], 0xE9 << 16, "OUT, 1 byte, DX, port 0xE9 (SDM table 28-5)")
        XCTAssertEqual(tdx.values["#VE.port"], 0xE9)

        let kvm = try ConversionRun.run("raw-out.asm", platform: .kvm)
        XCTAssertTrue(kvm.passed, "\(kvm.failures)")
        XCTAssertEqual(kvm.exitCodes, [0: 0])
        // The presence read, the stub's OUT, the exit code: the runtime's platform probe reads
        // no MSR on a guest without SEV (on this runner every RDMSR is a user-space exit, which
        // `enlighten bench`'s exit loop would count against its floor).
        XCTAssertEqual(kvm.exits, 3)
    }

    /// A run that does not serve an interface arms none of its sites (a no-platform run arms
    /// none at all, so its exits cost no breakpoint): a guest that reaches one faults as a
    /// plain guest would, and the fault names the site's platform and how to serve it.
    func testAnUnservedRequestSiteNamesThePlatformItNeeds() throws {
        for platform: ConversionPlatform? in [nil, .kvm, .sevSNP] {
            let result = try ConversionRun.run("unserved-tdcall.asm", platform: .kvm) { $0.platform = platform }
            XCTAssertFalse(result.passed, "a TDCALL no run serves cannot pass")
            let stop = result.stops.first?.reason.description ?? ""
            XCTAssertTrue(stop.contains("__enlighten_site_tdx_tdcall"), stop)
            XCTAssertTrue(stop.contains("a tdx request site") && stop.contains("choose --platform tdx"), stop)
        }
    }

    /// A raw read of a GPA no RAM backs through the runtime's identity view, which is private
    /// on both platforms (C=1 on SNP, no shared bit on TDX). SNP: the nested tables know no
    /// C-bit, so it is the same #VC 0x400 a C=0 access meets (OVMF's #VC handler relies on it
    /// for the local APIC). TDX: a private GPA is no MMIO; KVM_EXIT_MEMORY_FAULT, which no VMM
    /// resolves, so the guest ends naming the GPA and the access, at the instruction. On KVM
    /// the run stops with the unmapped GPA, as before.
    func testARawPrivateReadWhereNoRAMIsEndsTheGuestOnSEVSNPAndTDX() throws {
        let snp = try ConversionRun.run("unmapped.asm", platform: .sevSNP)
        guard case .exception(29, 0x400, let snpAt, _)? = snp.stops.first?.reason else { return XCTFail("ghcb: \(snp.stops)") }
        XCTAssertTrue(snpAt.hasPrefix("touch_here"), snpAt)
        XCTAssertTrue(snpAt.contains("C=1 read of 8 bytes"), snpAt)
        let result = try ConversionRun.run("unmapped.asm", platform: .tdx)
        guard case .memoryFault(let gpa, let size, true, let at)? = result.stops.first?.reason else {
            return XCTFail("tdx: \(result.stops)")
        }
        XCTAssertEqual(gpa, 0x8000_0000)
        XCTAssertEqual(size, 0x1000)
        XCTAssertTrue(at.hasPrefix("touch_here"), at)
        XCTAssertTrue(at.contains("read of 8 bytes at GPA"), at)
        let kvm = try ConversionRun.run("unmapped.asm", platform: .kvm)
        guard case .unmappedAccess(0x8000_0000, false, let at)? = kvm.stops.first?.reason else { return XCTFail("kvm: \(kvm.stops)") }
        XCTAssertTrue(at.hasPrefix("touch_here"), at)
    }
}

/// Raw RDMSR/WRMSR of an MSR the platform intercepts (issue 18, "intercepts as the hardware
/// makes them"): on SEV-SNP #VC 0x7C, on TDX #VE with exit reason 31/32, at the instruction and
/// not executed, and the verdict names the MSR. On KVM the access reaches KVM.
final class RawMSRInterceptTests: XCTestCase {
    func testARawRDMSRFaultsOnSEVSNPAndTDXAndReadsKVMsValueOnKVM() throws {
        let snp = try ConversionRun.run("raw-rdmsr.asm", platform: .sevSNP)
        guard case .exception(29, let error, let at, _)? = snp.stops.first?.reason else { return XCTFail("ghcb: \(snp.failures)") }
        XCTAssertEqual(error, 0x7C, "SVM_EXIT_MSR")
        XCTAssertTrue(at.hasPrefix("raw_rdmsr"), "at the instruction, not past it: \(at)")
        XCTAssertNil(snp.values["raw.apic_base"], "not executed")
        XCTAssertTrue(snp.failures.contains { $0.contains("RDMSR 0x1b") }, "the verdict names the MSR: \(snp.failures)")

        let tdx = try ConversionRun.run("raw-rdmsr.asm", platform: .tdx)
        guard case .exception(20, _, let tdxAt, _)? = tdx.stops.first?.reason else { return XCTFail("tdx: \(tdx.failures)") }
        XCTAssertTrue(tdxAt.hasPrefix("raw_rdmsr"), tdxAt)
        XCTAssertEqual(tdx.values["#VE.exit_reason"], 31, "EXIT_REASON_MSR_READ")
        XCTAssertTrue(tdx.failures.contains { $0.contains("RDMSR 0x1b") }, "\(tdx.failures)")

        let kvm = try ConversionRun.run("raw-rdmsr.asm", platform: .kvm)
        XCTAssertTrue(kvm.passed, "\(kvm.failures)")
        // The BSP's reset value (Intel SDM vol. 3 §11.4.4): base 0xFEE00000, enable, BSP.
        XCTAssertEqual(kvm.values["raw.apic_base"], 0xFEE0_0900)
    }

    func testARawWRMSRFaultsOnSEVSNPAndTDX() throws {
        let snp = try ConversionRun.run("raw-wrmsr.asm", platform: .sevSNP)
        guard case .exception(29, 0x7C, let at, _)? = snp.stops.first?.reason else { return XCTFail("ghcb: \(snp.failures)") }
        XCTAssertTrue(at.hasPrefix("raw_wrmsr"), at)
        XCTAssertTrue(snp.failures.contains { $0.contains("WRMSR 0x1a0") }, "\(snp.failures)")

        let tdx = try ConversionRun.run("raw-wrmsr.asm", platform: .tdx)
        guard case .exception(20, _, let tdxAt, _)? = tdx.stops.first?.reason else { return XCTFail("tdx: \(tdx.failures)") }
        XCTAssertTrue(tdxAt.hasPrefix("raw_wrmsr"), tdxAt)
        XCTAssertEqual(tdx.values["#VE.exit_reason"], 32, "EXIT_REASON_MSR_WRITE")
        XCTAssertTrue(tdx.failures.contains { $0.contains("WRMSR 0x1a0") }, "\(tdx.failures)")
    }
}
