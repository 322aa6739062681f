import GuestABI
import GuestPhysical
import Payload
import XCTest

@testable import HostRunner

/// Each platform's rules for guest accesses, decided without a vCPU: the page-state model
/// says what an access meets, the platform what the guest gets for it.
final class PlatformAccessRulesTests: XCTestCase {
    private static let ram = GPARange(start: 0, end: 0x10_0000)
    private static let page = GPARange(start: 0x5000, exactByteCount: 0x1000)

    private func unaccepted(gpa: UInt64 = 0x5000, address: UInt64 = 0x5000, linear: UInt64? = 0xFFFF_8000_0000_5010, isWrite: Bool = false) -> UnacceptedAccess
    {
        UnacceptedAccess(gpa: gpa, address: ViewAddress(address), linear: linear, isWrite: isWrite, at: "stub+0x10", states: "pending")
    }

    private func tdx(attributes: UInt64) -> TDXVCPU {
        TDXVCPU(
            index: 0, host: TDXHost(width: .bits48, vcpuCount: 1, retriesToInject: 0, attributes: attributes),
            septVEDisabled: attributes & RunOptions.tdxSeptVEDisable != 0)
    }

    /// RAM as an SNP/TDX launch leaves it: private and not validated/accepted.
    private func access(on platform: ConversionPlatform, privateView: Bool, isWrite: Bool) -> PageStateMap.AccessOutcome {
        PageStateMap.launchState(ram: Self.ram, plan: [], platform: platform)
            .access(gpa: 0x5008, privateView: privateView, isWrite: isWrite, platform: platform)
    }

    func testSNPPrivateAccessToAnUnvalidatedPageRaisesVCPageNotValidatedWithTheLinearAddressInCR2() {
        XCTAssertEqual(access(on: .sevSNP, privateView: true, isWrite: false), .notAccepted)
        let fault = SEVSNPVCPU(index: 0, policy: .strict).unacceptedAccess(unaccepted(gpa: 0x5000, address: 0x5000 | SEVSNPPlatform.cBit))
        XCTAssertEqual(
            fault,
            .inject(
                vector: 29, errorCode: 0x404, cr2: 0xFFFF_8000_0000_5010,
                remembered: InjectedException(vector: 29, cause: "a C=1 read of GPA 0x5000, guest-owned but not validated; page states: pending"),
                served: .served(
                    vcpu: 0, interface: .sevSNP, request: .unvalidatedAccess(.read, gpa: 0x5000, at: "stub+0x10"), answer: "#VC 0x404 (page not validated)")))
    }

    func testSNPSharedViewReadOfAPrivatePageReadsCiphertextWhileAWriteConvertsThroughTheGHCBModel() {
        XCTAssertEqual(access(on: .sevSNP, privateView: false, isWrite: false), .ciphertextRead)
        XCTAssertEqual(access(on: .sevSNP, privateView: false, isWrite: true), .implicitConversion(Self.page, to: .shared))
        let conversion = SEVSNPPlatform().implicitConversion(of: Self.page, to: .shared, privateView: false, isWrite: true)
        XCTAssertEqual(conversion.request.origin, .ghcbPSC)
        XCTAssertEqual(conversion.request.direction, .toShared)
        XCTAssertEqual(conversion.platform, .sevSNP)
        XCTAssertEqual(conversion.form, .memoryFault(.access(view: .shared, .write)))
    }

    func testTDXSharedViewAccessOfAPrivatePageConvertsAsMapGPA() {
        XCTAssertEqual(access(on: .tdx, privateView: false, isWrite: false), .implicitConversion(Self.page, to: .shared))
        let conversion = TDXPlatform(width: .bits48, attributes: 0).implicitConversion(of: Self.page, to: .shared, privateView: false, isWrite: false)
        XCTAssertEqual(conversion.request.origin, .tdxMapGPA)
        XCTAssertEqual(conversion.platform, .tdx)
        XCTAssertEqual(conversion.form, .memoryFault(.access(view: .shared, .read)))
    }

    func testTDXWithSEPTVEDisableStopsTheTD() {
        XCTAssertEqual(access(on: .tdx, privateView: true, isWrite: true), .notAccepted)
        guard case .stop(.platformStopped(let why)) = tdx(attributes: RunOptions.tdxSeptVEDisable).unacceptedAccess(unaccepted(isWrite: true)) else {
            return XCTFail("SEPT_VE_DISABLE set: the TD stops")
        }
        XCTAssertTrue(why.hasPrefix("guest access before accepting 0x5000 (a write through the private view of a pending page) at stub+0x10"), why)
    }

    /// SEPT_VE_DISABLE clear: #VE with VE_INFO for TDG.VP.VEINFO.GET; a second before the
    /// guest reads it is #DF; once read, the next is #VE again.
    func testTDXWithoutSEPTVEDisableRaisesVEThenDFUntilVEInfoIsRead() {
        let vcpu = tdx(attributes: 0)
        guard case .inject(20, nil, nil, let remembered?, _) = vcpu.unacceptedAccess(unaccepted()) else { return XCTFail("#VE expected") }
        XCTAssertEqual(remembered.vector, 20)
        XCTAssertEqual(
            vcpu.host.module.pendingVEInfo,
            TDXModule.VEInfo(exitReason: 48, exitQualification: 0b01 | 1 << 7 | 1 << 8, gla: 0xFFFF_8000_0000_5010, gpa: 0x5000))
        guard case .inject(8, 0, nil, nil, _) = vcpu.unacceptedAccess(unaccepted()) else { return XCTFail("#DF expected while VE_INFO is valid") }
        var module = vcpu.host.module, registers = TDCallRegisters(), events: [RunEvent] = []
        module.veInfoGet(&registers, vcpu: 0, events: &events)
        XCTAssertEqual(registers.rax, TDCall.success)
        XCTAssertEqual(registers.r9, 0x5000)
        XCTAssertNil(module.pendingVEInfo)
    }

    func testOnlySNPServesTheGHCBMSRAndSEVStatus() {
        let snp = SEVSNPVCPU(index: 0, policy: .strict)
        XCTAssertTrue(snp.writeMSR(GHCBMSRProtocol.msrIndex, value: 0x1234))
        XCTAssertEqual(snp.readMSR(GHCBMSRProtocol.msrIndex), 0x1234)
        XCTAssertEqual(snp.readMSR(SEVSNPPlatform.sevStatusMSR), 0b111)
        XCTAssertNil(snp.readMSR(0x10))
        for other in [KVMVCPU(index: 0) as any PlatformVCPU, tdx(attributes: 0)] {
            XCTAssertNil(other.readMSR(GHCBMSRProtocol.msrIndex))
            XCTAssertNil(other.readMSR(SEVSNPPlatform.sevStatusMSR))
            XCTAssertFalse(other.writeMSR(GHCBMSRProtocol.msrIndex, value: 1))
        }
    }

    func testKVMModelHasNoUnacceptedPages() {
        XCTAssertEqual(access(on: .kvm, privateView: true, isWrite: false), .allowed)
    }

    func testEachPlatformNamesItsViewBitAndAddressWidth() {
        XCTAssertEqual(SEVSNPPlatform().pageTableEncryptionBit, 1 << 47)
        XCTAssertEqual(SEVSNPPlatform().physicalAddressBits, 48)
        XCTAssertEqual(TDXPlatform(width: .bits52, attributes: 0).physicalAddressBits, 52)
        XCTAssertEqual(TDXPlatform(width: .bits52, attributes: 0).pageTableEncryptionBit, 0)
        XCTAssertNil(KVMPlatform(identity: .kvm).physicalAddressBits)
    }
}
