import GuestABI
import GuestPhysical
import KVM
import XCTest

@testable import HostRunner

/// The platforms' rules for raw RDMSR/WRMSR and for forwarded MSRs, pure (no /dev/kvm):
/// SEV-SNP #VC 0x7C except for the MSRs KVM leaves to an SEV-ES/SNP guest; TDX the module's
/// MSR table (native, module-handled, #GP, else #VE 31/32); forwarded MSRs KVM's emulation
/// for the platform's guests; KVM no rule at all.
final class MSRInterceptRulesTests: XCTestCase {
    private func access(_ index: UInt32, write: Bool = false) -> InterceptedMSR {
        InterceptedMSR(index: index, isWrite: write, value: write ? 0xFEE0_0900 : 0, at: "raw_msr")
    }

    /// svm.c svm_vcpu_init_msrpm / sev.c sev_es_recalc_msr_intercepts leave these to the guest;
    /// SEV_STATUS is never intercepted; the rest (APIC base, TSC, MTRRs, x2APIC) is.
    func testSEVSNPLetsOnlyTheHardwareSwitchedMSRsRun() {
        let rule = SNPMSRIntercept()
        for index: UInt32 in [
            0xC000_0080, 0xC000_0081, 0xC000_0082, 0xC000_0083, 0xC000_0084, 0xC000_0100, 0xC000_0101, 0xC000_0102, 0x174, 0x277, 0xC001_0130, 0xC001_0131,
        ] {
            XCTAssertTrue(rule.reachesKVM(index, isWrite: false), hex(index))
            XCTAssertTrue(rule.reachesKVM(index, isWrite: true), hex(index))
        }
        for index: UInt32 in [0x1B, 0x10, 0x1A0, 0x2FF, 0x200, 0x830, 0x4000_0000, 0xC001_0010] {
            XCTAssertFalse(rule.reachesKVM(index, isWrite: false), hex(index))
            XCTAssertFalse(rule.reachesKVM(index, isWrite: true), hex(index))
        }
        XCTAssertTrue(rule.reachesKVM(0x49, isWrite: true), "PRED_CMD writes pass through")
        XCTAssertFalse(rule.reachesKVM(0x49, isWrite: false))
    }

    func testSEVSNPRaisesVCWithTheMSRExitCode() {
        guard case .inject(let vector, let error, let cr2, let remembered, let served) = SNPMSRIntercept.fault(access(0x1B), vcpu: 0)
        else { return XCTFail("not an exception") }
        XCTAssertEqual(vector, 29)
        XCTAssertEqual(error, 0x7C)
        XCTAssertNil(cr2)
        XCTAssertEqual(remembered?.cause, "MSR intercept: RDMSR 0x1b at raw_msr, not executed")
        XCTAssertEqual(
            served,
            .served(vcpu: 0, interface: .sevSNP, request: .msrIntercept(index: 0x1B, write: false, at: "raw_msr"), answer: "#VC 0x7C (SVM_EXIT_MSR)"))
    }

    /// Rows of intel/tdx-module msr_config_lookup.c, and its rule for MSRs it does not list.
    func testTDXFollowsTheModulesMSRTable() {
        typealias A = TDXMSRVirtualization.Action
        let expected: [(UInt32, read: A, write: A)] = [
            (0x10, .native, .virtualizationException), // TSC
            (0x1B, .virtualizationException, .virtualizationException), // APIC base: not listed
            (0xC1, .generalProtection, .generalProtection), // PMC0 without PERFMON
            (0x1A0, .module, .virtualizationException), // MISC_ENABLE
            (0x1D9, .module, .module), // DEBUGCTL
            (0x277, .native, .native), // PAT
            (0x2FF, .virtualizationException, .virtualizationException), // MTRRdefType: not listed
            (0x482, .virtualizationException, .generalProtection), // VMX_PROCBASED_CTLS
            (0x6E0, .virtualizationException, .virtualizationException), // TSC_DEADLINE
            (0x808, .native, .native), // x2APIC TPR
            (0x830, .virtualizationException, .virtualizationException), // x2APIC ICR: not listed
            (0x840, .generalProtection, .generalProtection), // reserved x2APIC
            (0xDA0, .native, .module), // XSS
            (0xC000_0080, .native, .module), // EFER
            (0xC000_0083, .virtualizationException, .virtualizationException), // CSTAR: not listed
            (0xC000_0103, .native, .native), // TSC_AUX
            (0x4000_0000, .virtualizationException, .virtualizationException), // outside the bitmaps
            (0xC001_0131, .virtualizationException, .virtualizationException), // outside the bitmaps
        ]
        for (index, read, write) in expected {
            XCTAssertEqual(TDXMSRVirtualization.action(index, isWrite: false), read, "read \(hex(index))")
            XCTAssertEqual(TDXMSRVirtualization.action(index, isWrite: true), write, "write \(hex(index))")
        }
        XCTAssertTrue(TDXMSRVirtualization().reachesKVM(0xC000_0080, isWrite: true), "module-handled: KVM answers here")
        XCTAssertFalse(TDXMSRVirtualization().reachesKVM(0xC1, isWrite: false))
    }

    func testTheTableIsOrderedAndDisjoint() {
        let table = TDXMSRVirtualization.table
        for (earlier, later) in zip(table, table.dropFirst()) {
            XCTAssertLessThanOrEqual(earlier.first, earlier.last)
            XCTAssertLessThan(earlier.last, later.first, "\(hex(earlier.first)) overlaps \(hex(later.first))")
        }
    }

    /// #VE with VE_INFO exit reason 31 / 32, qualification 0, length 2 for TDG.VP.VEINFO.GET;
    /// #DF while VE_INFO is valid; #GP(0) with no VE info; nil where the module lets it run.
    func testTDXRaisesVEWithTheMSRExitReasonOrGP() throws {
        var module = TDXModule(width: .bits48, vcpuCount: 1, attributes: 0)
        guard case .inject(20, nil, nil, let remembered, _)? = module.msrException(for: access(0x1B), vcpu: 0) else {
            return XCTFail("not #VE")
        }
        XCTAssertEqual(remembered?.cause, "MSR exit: RDMSR 0x1b at raw_msr, not executed")
        XCTAssertEqual(module.pendingVEInfo, .init(exitReason: 31, exitQualification: 0, gla: 0, gpa: 0, instructionLength: 2))
        guard case .inject(8, _, _, _, _)? = module.msrException(for: access(0x1B, write: true), vcpu: 0) else {
            return XCTFail("not #DF")
        }
        var registers = TDCallRegisters()
        var events: [RunEvent] = []
        module.veInfoGet(&registers, vcpu: 0, events: &events)
        XCTAssertEqual([registers.rax, registers.rcx, registers.rdx, registers.r10], [0, 31, 0, 2])

        guard case .inject(20, nil, nil, _, _)? = module.msrException(for: access(0x1B, write: true), vcpu: 0) else {
            return XCTFail("not #VE")
        }
        XCTAssertEqual(module.pendingVEInfo?.exitReason, 32)
        module.pendingVEInfo = nil
        guard case .inject(13, 0, nil, _, _)? = module.msrException(for: access(0xC1), vcpu: 0) else { return XCTFail("not #GP(0)") }
        XCTAssertNil(module.pendingVEInfo)
        XCTAssertNil(module.msrException(for: access(0xC000_0080), vcpu: 0), "EFER reads run")
    }

    /// The filter KVM gets lets exactly the rule's accesses through; everything outside its
    /// three ranges is denied by default.
    func testTheFilterMatchesTheRule() {
        for rule in [SNPMSRIntercept() as any RawMSRRule, TDXMSRVirtualization()] {
            let filter = rule.filter
            XCTAssertEqual(filter.ranges.count, 6)
            XCTAssertTrue(filter.ranges.allSatisfy { $0.bitmap.count <= MSRFilter.maximumBitmapBytes })
            for index: UInt32 in [0x10, 0x1B, 0x49, 0x277, 0x1A0, 0x1FFF, 0xC000_0080, 0xC000_0083, 0xC001_0130, 0xC001_0131, 0x4000_0000] {
                for write in [false, true] {
                    let inRanges = index < 0x2000 || (0xC000_0000..<0xC000_2000).contains(index) || (0xC001_0000..<0xC001_2000).contains(index)
                    XCTAssertEqual(filter.allows(index, isWrite: write), inRanges && rule.reachesKVM(index, isWrite: write), "\(hex(index)) \(write)")
                }
            }
        }
        XCTAssertTrue(SNPMSRIntercept().filter.allows(0xC001_0131, isWrite: false), "SEV_STATUS reaches the runner")
        XCTAssertFalse(TDXMSRVirtualization().filter.allows(0x1B, isWrite: false))
    }

    func testKVMHasNoRule() {
        XCTAssertNil(KVMPlatform(identity: .kvm).rawMSRRule)
        XCTAssertNil(KVMPlatform(identity: nil).rawMSRRule, "a run without a platform")
        XCTAssertNil(KVMVCPU(index: 0).msrIntercept(access(0x1B)))
    }

    /// tdx_has_emulated_msr with tdx_get_msr / tdx_set_msr's special cases.
    func testTDXForwardsExactlyTheMSRsKVMEmulatesForATD() {
        let kvm = StubHypervisorMSRs([0x1B: 0xFEE0_0900, 0x10: 1234, 0x2FF: 6, 0x830: 7, 0x811: 8, 0x808: 9, 0x179: 0, 0xC000_0080: 0x500])
        XCTAssertEqual(TDXEmulatedMSRs.read(0x1B, kvm: kvm), 0xFEE0_0900)
        XCTAssertEqual(TDXEmulatedMSRs.read(0x2FF, kvm: kvm), 6, "MTRRdefType")
        XCTAssertNil(TDXEmulatedMSRs.read(0x10, kvm: kvm), "KVM knows the TSC, but not for a TD")
        XCTAssertEqual(TDXEmulatedMSRs.read(0x830, kvm: kvm), 7, "x2APIC ICR")
        XCTAssertNil(TDXEmulatedMSRs.read(0x808, kvm: kvm), "x2APIC TPR: the CPU virtualizes it")
        XCTAssertEqual(TDXEmulatedMSRs.read(0x811, kvm: kvm), 8, "ISR1: KVM's range covers ISR0 alone")
        XCTAssertEqual(TDXEmulatedMSRs.read(0x3A, kvm: kvm), 1, "FEAT_CTL: LOCKED, no LMCE")
        XCTAssertNil(TDXEmulatedMSRs.read(0x4D0, kvm: kvm), "MCG_EXT_CTL without LMCE")
        kvm.values[0x179] = 1 << 27
        XCTAssertEqual(TDXEmulatedMSRs.read(0x3A, kvm: kvm), 1 | 1 << 20, "FEAT_CTL with LMCE_P")
        XCTAssertFalse(TDXEmulatedMSRs.write(0x1B, value: 0xFEE0_0900, kvm: kvm), "read-only")
        XCTAssertFalse(TDXEmulatedMSRs.write(0xC000_0080, value: 0x500, kvm: kvm), "read-only")
        XCTAssertFalse(TDXEmulatedMSRs.write(0x10, value: 0, kvm: kvm))
        XCTAssertTrue(TDXEmulatedMSRs.write(0x2FF, value: 0xC06, kvm: kvm))
        XCTAssertEqual(kvm.values[0x2FF], 0xC06)
    }

    /// SEV-SNP: KVM's emulation of every MSR it knows, but never the hardware's GHCB MSR or
    /// SEV_STATUS; through the devices, a refusal is counted as unserved.
    func testSEVSNPForwardsWhatKVMEmulatesButTheHardwaresMSRs() {
        let snp = SEVSNPVCPU(index: 0, policy: .strict)
        let fixture = GuestDevicesFixture(platform: snp, hypervisorMSRs: [0x1B: 0xFEE0_0900, 0x10: 1234, 0xC001_0130: 5, 0xC001_0131: 7])
        XCTAssertEqual(fixture.devices.forwardedReadMSR(0x1B), 0xFEE0_0900)
        XCTAssertEqual(fixture.devices.forwardedReadMSR(0x10), 1234)
        XCTAssertEqual(fixture.unserved, 0)
        XCTAssertNil(fixture.devices.forwardedReadMSR(0xC001_0130))
        XCTAssertNil(fixture.devices.forwardedReadMSR(0xC001_0131))
        XCTAssertFalse(fixture.devices.forwardedWriteMSR(0xC001_0130, value: 1))
        XCTAssertEqual(fixture.unserved, 3)
        XCTAssertTrue(fixture.devices.forwardedWriteMSR(0x10, value: 99))
        XCTAssertEqual(fixture.hypervisorMSRs.values[0x10], 99)
    }
}
