import GuestABI
import XCTest

@testable import HostRunner

/// What a raw CPUID (and a TD's raw HLT) meets under `RunOptions.catchRawCPUID`, pure (no
/// /dev/kvm): SEV-SNP #VC 0x72 for every leaf; TDX #VE exit reason 10 for the hypervisor range
/// only (tdx-module td_cpuid_exit), exit reason 12 for HLT; KVM none. And the decoding that
/// finds the instructions before they run.
final class CPUIDInterceptRulesTests: XCTestCase {
    func testCPUIDIsFoundThroughItsLegalPrefixes() {
        XCTAssertEqual(CPUIDInstruction.length([0x0F, 0xA2, 0xC3]), 2)
        XCTAssertEqual(CPUIDInstruction.length([0x66, 0x0F, 0xA2]), 3)
        XCTAssertEqual(CPUIDInstruction.length([0xF3, 0x2E, 0x48, 0x0F, 0xA2]), 5, "REP, CS override, REX.W")
        XCTAssertNil(CPUIDInstruction.length([0xF0, 0x0F, 0xA2]), "LOCK CPUID is #UD, not an intercept")
        XCTAssertNil(CPUIDInstruction.length([0x48, 0x66, 0x0F, 0xA2]), "a REX not right before the opcode is ignored: 66 0F A2 is not what follows it")
        XCTAssertNil(CPUIDInstruction.length([0x0F, 0x32]), "RDMSR")
        XCTAssertNil(CPUIDInstruction.length([0x0F]), "cut short by an unreadable page")
        XCTAssertNil(CPUIDInstruction.length([UInt8](repeating: 0x66, count: 14) + [0x0F, 0xA2]), "16 bytes: #GP")
        XCTAssertEqual(CPUIDInstruction.length([UInt8](repeating: 0x66, count: 13) + [0x0F, 0xA2]), 15)
    }

    func testPOPFAndIRETAreFoundWithWhereTheyReadRFLAGS() {
        XCTAssertEqual(FlagsRestore.flagsOffset([0x9D]), 0)
        XCTAssertEqual(FlagsRestore.flagsOffset([0x48, 0xCF]), 16, "IRETQ: past RIP and CS")
        XCTAssertEqual(FlagsRestore.flagsOffset([0xCF]), 8, "IRETD")
        XCTAssertEqual(FlagsRestore.flagsOffset([0x66, 0xCF]), 4, "IRET with 16-bit operands")
        XCTAssertNil(FlagsRestore.flagsOffset([0x9C]), "PUSHF")
        XCTAssertNil(FlagsRestore.flagsOffset([]))
    }

    private func cpuid(_ leaf: UInt32, length: Int = 2) -> InterceptedCPUID {
        InterceptedCPUID(leaf: leaf, subleaf: 0, length: length, at: "raw_cpuid")
    }

    func testSEVSNPRaisesVCWithTheCPUIDExitCodeForEveryLeaf() {
        for leaf: UInt32 in [0, 1, 0xD, 0x4000_0000, 0x8000_001F] {
            guard case .inject(let vector, let error, nil, let remembered, _) = SNPCPUIDIntercept.fault(cpuid(leaf), vcpu: 0) else {
                return XCTFail("leaf \(leaf): not an exception")
            }
            XCTAssertEqual(vector, 29)
            XCTAssertEqual(error, 0x72)
            XCTAssertNotNil(remembered)
        }
    }

    func testTheTDXModuleRaisesVEOnlyForTheHypervisorRange() {
        XCTAssertFalse(TDXModule.raisesVE(cpuidLeaf: 0))
        XCTAssertFalse(TDXModule.raisesVE(cpuidLeaf: 0x21), "the module's own leaf")
        XCTAssertFalse(TDXModule.raisesVE(cpuidLeaf: 0x3FFF_FFFF), "clamped to the last base leaf, answered")
        XCTAssertTrue(TDXModule.raisesVE(cpuidLeaf: 0x4000_0000))
        XCTAssertTrue(TDXModule.raisesVE(cpuidLeaf: 0x4FFF_FFFF))
        XCTAssertFalse(TDXModule.raisesVE(cpuidLeaf: 0x5000_0000))
        XCTAssertFalse(TDXModule.raisesVE(cpuidLeaf: 0x8000_0008))
    }

    func testTDXVEInfoNamesTheCPUIDAndItsLength() {
        var module = TDXModule(width: .bits48, vcpuCount: 1, attributes: 0)
        XCTAssertNil(module.cpuidException(for: cpuid(0), vcpu: 0), "the module answers leaf 0")
        XCTAssertNil(module.pendingVEInfo)
        guard case .inject(20, nil, nil, _, _)? = module.cpuidException(for: cpuid(0x4000_0000, length: 3), vcpu: 0) else {
            return XCTFail("not #VE")
        }
        XCTAssertEqual(module.pendingVEInfo, .init(exitReason: 10, exitQualification: 0, gla: 0, gpa: 0, instructionLength: 3))
        guard case .inject(8, _, _, _, _)? = module.cpuidException(for: cpuid(0x4000_0001), vcpu: 0) else {
            return XCTFail("VE_INFO still valid: not #DF")
        }
        var registers = TDCallRegisters()
        var events: [RunEvent] = []
        module.veInfoGet(&registers, vcpu: 0, events: &events)
        XCTAssertEqual(registers.rax, 0)
        XCTAssertEqual(registers.rcx, 10, "TDG.VP.VEINFO.GET exit reason")
        XCTAssertEqual(registers.r10, 3, "instruction length")
    }

    func testATDsHLTRaisesVEWithExitReason12() {
        var module = TDXModule(width: .bits48, vcpuCount: 1, attributes: 0)
        guard case .inject(20, nil, nil, _, _) = module.hltException(at: "main", vcpu: 0) else { return XCTFail("not #VE") }
        XCTAssertEqual(module.pendingVEInfo, .init(exitReason: 12, exitQualification: 0, gla: 0, gpa: 0, instructionLength: 1))
    }

    func testKVMAndSNPLeaveHLTAndKVMLeavesCPUIDToTheCPU() {
        XCTAssertNil(KVMVCPU(index: 0).cpuidIntercept(cpuid(0x4000_0000)))
        XCTAssertNil(KVMVCPU(index: 0).hltIntercept(at: "main"))
        XCTAssertNil(SEVSNPVCPU(index: 0, policy: .strict).hltIntercept(at: "main"), "HLT is an automatic exit for SEV-ES/SNP, no #VC")
    }

    func testCatchingCPUIDNeedsAPlatformThatInterceptsIt() {
        var options = RunOptions()
        options.catchRawCPUID = true
        for platform: ConversionPlatform? in [nil, .kvm] {
            options.platform = platform
            XCTAssertThrowsError(try options.validate(), "\(String(describing: platform))")
        }
        for platform: ConversionPlatform in [.sevSNP, .tdx] {
            options.platform = platform
            XCTAssertNoThrow(try options.validate())
        }
    }
}
