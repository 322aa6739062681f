import GuestABI
import GuestPhysical
import XCTest

@testable import HostRunner

/// The platforms' answers to a raw access where no RAM is, and what a forwarded MMIO access
/// reaches, pure (no /dev/kvm): SEV-SNP #VC 0x400 for C=0, TDX #VE exit reason 48 with the
/// qualification, GLA and shared GPA for a shared GPA, the guest's end for a private access
/// on both, KVM none (the run stops naming the GPA, as before); a forwarded access at RAM
/// reads and writes the page's shared memory as the VMM does.
final class MMIOInterceptRulesTests: XCTestCase {
    private let unbacked: UInt64 = 0x8000_0000

    private func access(_ address: UInt64, write: Bool = false, linear: UInt64? = nil) -> InterceptedMMIO {
        InterceptedMMIO(address: ViewAddress(address), size: 8, isWrite: write, linear: linear, at: "raw_read")
    }

    func testSEVSNPRaisesVCWithTheNPFExitCodeForACBitClearAccess() {
        guard case .inject(let vector, let error, let cr2, let remembered, let served) = SNPMMIOIntercept.fault(access(unbacked), vcpu: 0)
        else { return XCTFail("not an exception") }
        XCTAssertEqual(vector, 29)
        XCTAssertEqual(error, 0x400, "SVM_EXIT_NPF")
        XCTAssertNil(cr2, "#VC NPF leaves CR2 alone: the guest decodes the instruction")
        XCTAssertEqual(remembered?.cause, "NPF (MMIO): a C=0 read of 8 bytes at GPA 0x80000000, not executed")
        XCTAssertEqual(
            served,
            .served(
                vcpu: 0, interface: .sevSNP, request: .mmioIntercept(gpa: unbacked, size: 8, write: false, at: "raw_read"),
                answer: "#VC 0x400 (SVM_EXIT_NPF)"))
        XCTAssertTrue(SEVSNPVCPU(index: 0, policy: .strict).interceptsMMIO)
    }

    /// SNP: a C=1 access meets the same #VC 0x400 (the nested tables know no C-bit; OVMF's
    /// #VC handler relies on it for the local APIC). TDX: a private GPA is the TD's end.
    func testAPrivateAccessWhereNoRAMIsVCOnSNPAndTheEndOnTDX() {
        guard case .inject(29, 0x400, nil, let remembered, _) = SNPMMIOIntercept.fault(access(unbacked | SEVSNPPlatform.cBit, write: true), vcpu: 0)
        else { return XCTFail("SNP C=1: not #VC 0x400") }
        XCTAssertEqual(remembered?.cause, "NPF (MMIO): a C=1 write of 8 bytes at GPA 0x800080000000, not executed")

        var module = TDXModule(width: .bits48, vcpuCount: 1, attributes: 0)
        guard case .stop(.memoryFault(let tdxGPA, _, true, _)) = module.mmioException(for: access(unbacked), vcpu: 0) else {
            return XCTFail("TDX private GPA: not the TD's end")
        }
        XCTAssertEqual(tdxGPA, unbacked)
        XCTAssertNil(module.pendingVEInfo, "no #VE, so no VE_INFO")
    }

    func testTDXRaisesVEWithExitReason48TheAccessAndTheSharedGPA() {
        let shared = TDXGuestPhysicalAddressWidth.bits48.sharedBit
        var module = TDXModule(width: .bits48, vcpuCount: 1, attributes: RunOptions.tdxSeptVEDisable)
        guard case .inject(20, nil, nil, _, _) = module.mmioException(for: access(shared | unbacked, linear: 0xFFFF_8000_8000_0000), vcpu: 0)
        else { return XCTFail("not #VE") }
        XCTAssertEqual(
            module.pendingVEInfo,
            .init(exitReason: 48, exitQualification: 0b01 | 1 << 7 | 1 << 8, gla: 0xFFFF_8000_8000_0000, gpa: shared | unbacked))
        // VE_INFO still valid: #DF, as for any #VE the guest has not read.
        guard case .inject(8, _, _, _, _) = module.mmioException(for: access(shared | unbacked, write: true), vcpu: 0) else {
            return XCTFail("not #DF")
        }
        module.pendingVEInfo = nil
        _ = module.mmioException(for: access(shared | unbacked, write: true), vcpu: 0)
        XCTAssertEqual(module.pendingVEInfo, .init(exitReason: 48, exitQualification: 0b10, gla: 0, gpa: shared | unbacked), "a write, no GLA")
    }

    func testKVMLetsTheAccessStopTheRunAsBefore() {
        XCTAssertFalse(KVMVCPU(index: 0).interceptsMMIO)
        XCTAssertNil(KVMVCPU(index: 0).mmioIntercept(access(unbacked)))
    }

    // MARK: forwarded MMIO

    /// Pages 0 and 1 of the fixture's RAM: 0 shared, 1 private; one file for both (SNP).
    private func unified(_ memory: GuestMemory) -> VMMMemory {
        VMMMemory(memory: memory, ram: GPARange(start: 0, end: 0x2000), sharedAlias: nil, state: { $0 < 0x1000 ? .shared : .private })
    }

    func testAForwardedAccessAtASharedPageReadsAndWritesIt() {
        let fixture = GuestDevicesFixture(vmmMemory: unified)
        XCTAssertTrue(fixture.memory.write([1, 2, 3, 4], at: 0x10))
        let (bytes, target) = fixture.devices.mmioRead(gpa: 0x10, length: 4)
        XCTAssertEqual(bytes, [1, 2, 3, 4])
        XCTAssertEqual(target, .ram)
        XCTAssertEqual(fixture.devices.mmioWrite(gpa: 0x20, bytes: [9, 8]), .ram)
        XCTAssertEqual(fixture.memory.read(at: 0x20, count: 2), [9, 8])
        XCTAssertEqual(fixture.unserved, 0, "RAM answered: nothing unserved")
    }

    /// A private page's shared memory was discarded when it went private: zeros, and a write
    /// does not reach the private content.
    func testAForwardedAccessAtAPrivatePageMissesItsPrivateContent() {
        let fixture = GuestDevicesFixture(vmmMemory: unified)
        XCTAssertTrue(fixture.memory.write([0xAA, 0xBB], at: 0x1000))
        XCTAssertEqual(fixture.devices.mmioRead(gpa: 0x1000, length: 2).bytes, [0, 0])
        XCTAssertEqual(fixture.devices.mmioWrite(gpa: 0x1000, bytes: [1, 1]), .ram)
        XCTAssertEqual(fixture.memory.read(at: 0x1000, count: 2), [0xAA, 0xBB])
    }

    func testAForwardedAccessWhereNoRAMIsReadsAllOnesAndCountsAsUnserved() {
        let fixture = GuestDevicesFixture(vmmMemory: unified)
        let (bytes, target) = fixture.devices.mmioRead(gpa: 0x2000, length: 4)
        XCTAssertEqual(bytes, [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(target, .nothing)
        XCTAssertEqual(fixture.devices.mmioWrite(gpa: 0x3000, bytes: [1]), .nothing)
        XCTAssertEqual(fixture.memory.read(at: 0x3000, count: 1), [0], "the fixture's buffer beyond RAM is untouched")
        XCTAssertEqual(fixture.unserved, 2)
        // Across RAM's end: the RAM bytes, then the floating bus.
        XCTAssertTrue(fixture.memory.write([7, 7], at: 0xFFE))
        XCTAssertEqual(fixture.devices.mmioRead(gpa: 0xFFE, length: 4).bytes, [7, 7, 0, 0], "the private page's shared memory reads 0")
        XCTAssertEqual(fixture.devices.mmioRead(gpa: 0x1FFF, length: 2).bytes, [0, 0xFF])
    }

    /// TDX: the shared memory is the split backing at GPA | shared bit, whatever the page's state.
    func testTDXReachesTheSplitSharedBacking() {
        let size = 0x2000, alias: UInt64 = 1 << 47
        let base = UnsafeMutableRawPointer.allocate(byteCount: 2 * size, alignment: 4096)
        defer { base.deallocate() }
        base.initializeMemory(as: UInt8.self, repeating: 0, count: 2 * size)
        let memory = GuestMemory(regions: [
            .init(name: "ram", range: GPARange(start: 0, end: UInt64(size)), base: base),
            .init(name: "shared-alias", range: GPARange(start: alias, end: alias + UInt64(size)), base: base + size),
        ])
        let vmm = VMMMemory(memory: memory, ram: GPARange(start: 0, end: UInt64(size)), sharedAlias: alias, state: { _ in .private })
        XCTAssertTrue(memory.write([5], at: 0x40))
        XCTAssertTrue(memory.write([6], at: alias | 0x40))
        XCTAssertEqual(vmm.load(0x40), 6, "the shared side, not the private one")
        XCTAssertTrue(vmm.store(9, at: 0x41))
        XCTAssertEqual(memory.read(at: alias | 0x41, count: 1), [9])
        XCTAssertEqual(memory.read(at: 0x41, count: 1), [0])
        XCTAssertNil(vmm.load(UInt64(size)), "not RAM")
    }
}
