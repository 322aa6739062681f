import GuestABI
import XCTest

/// TDX module behaviour (intel/tdx-module `tdx_td_dispatcher.c`, `tdg_vp_vmcall.c`,
/// `tdg_vp_info.c`) and KVM's (`tdx.c handle_tdvmcall`): TDX_OPERAND_INVALID =
/// 0xC000_0100_0000_0000 with the operand id in bits 31:0 (RAX 0, RCX 1).
final class TDCallTests: XCTestCase {
    func registers(
        rax: UInt64, rcx: UInt64 = 0xFC00, r10: UInt64 = 0, r11: UInt64 = 0,
        r12: UInt64 = 0, r13: UInt64 = 0, r14: UInt64 = 0
    ) -> TDCallRegisters {
        var registers = TDCallRegisters()
        registers.rax = rax
        registers.rcx = rcx
        registers.r10 = r10
        registers.r11 = r11
        registers.r12 = r12
        registers.r13 = r13
        registers.r14 = r14
        return registers
    }

    func testLeaves() {
        XCTAssertEqual(TDCall.decode(registers(rax: 1)), .vpInfo)
        XCTAssertEqual(TDCall.decode(registers(rax: 6, rcx: 0x20_0001)), .memPageAccept(pageInfo: 0x20_0001))
        for rax: UInt64 in [2, 5, 0x1_0000, 1 << 24, 1 << 40] {
            XCTAssertEqual(TDCall.decode(registers(rax: rax)), .failed(status: 0xC000_0100_0000_0000), "rax \(rax)")
        }
    }

    func testExposureMaskRules() {
        for rcx: UInt64 in [0xFC01, 0xFC02, 0xFC10, 0x1_0000_FC00] {
            XCTAssertEqual(TDCall.decode(registers(rax: 0, rcx: rcx)), .failed(status: 0xC000_0100_0000_0001), "rcx \(rcx)")
        }
    }

    func testMapGPADecode() {
        let gpa: UInt64 = (1 << 47) | 0x10_0000
        XCTAssertEqual(
            TDCall.decode(registers(rax: 0, r11: 0x10001, r12: gpa, r13: 0x4000)),
            .vmcall(.mapGPA(gpa: gpa, size: 0x4000), exposedMask: 0xFC00))
        XCTAssertEqual(TDVMCall.mapGPA(gpa: gpa, size: 0x4000).registers, registers(rax: 0, r11: 0x10001, r12: gpa, r13: 0x4000))
    }

    func testKVMHypercallAndUnknownSubfunction() {
        XCTAssertEqual(
            TDCall.decode(registers(rax: 0, r10: 12, r11: 0x1000, r12: 1, r13: 0x10, r14: 9)),
            .vmcall(.kvmHypercall(nr: 12, a0: 0x1000, a1: 1, a2: 0x10, a3: 9), exposedMask: 0xFC00))
        XCTAssertEqual(TDCall.decode(registers(rax: 0, r11: 0x10005)), .vmcall(.unsupported(subfunction: 0x10005), exposedMask: 0xFC00))
    }

    func testUnexposedRegistersReadAsZero() {
        // R12/R13 hidden: the VMM sees MapGPA(0, 0).
        XCTAssertEqual(
            TDCall.decode(registers(rax: 0, rcx: 0x0C00, r11: 0x10001, r12: 0x1000, r13: 0x1000)),
            .vmcall(.mapGPA(gpa: 0, size: 0), exposedMask: 0x0C00))
        // R10/R11 hidden: R11 reads 0, which is no subfunction KVM knows.
        XCTAssertEqual(
            TDCall.decode(registers(rax: 0, rcx: 0xF000, r10: 5, r11: 0x10001)),
            .vmcall(.unsupported(subfunction: 0), exposedMask: 0xF000))
    }

    func testCompletionWritesOnlyExposedRegisters() {
        var guest = registers(rax: 0, r10: 0xAAAA, r11: 0xBBBB)
        TDVMCallCompletion(status: 0x8000_0000_0000_0000, r11: 0x1000).apply(to: &guest, exposedMask: 0xFC00)
        XCTAssertEqual(guest.rax, 0)
        XCTAssertEqual(guest.r10, 0x8000_0000_0000_0000)
        XCTAssertEqual(guest.r11, 0x1000)
        var hidden = registers(rax: 0, r10: 0xAAAA, r11: 0xBBBB)
        TDVMCallCompletion(status: 1, r11: 0x1000).apply(to: &hidden, exposedMask: 0xF000)
        XCTAssertEqual(hidden.r10, 0xAAAA)
        XCTAssertEqual(hidden.r11, 0xBBBB)
    }

    func testKVMHypercallThroughVMCallEndToEnd() throws {
        var guest = registers(rax: 0, r10: 12, r11: 0x40_0000, r12: 2, r13: 0x10)
        guard case let .vmcall(.kvmHypercall(nr, a0, a1, a2, _), mask) = TDCall.decode(guest) else {
            return XCTFail("not a hypercall")
        }
        let request = try MapGPARange.decode(nr: nr, a0: a0, a1: a1, a2: a2, longMode: true)
        XCTAssertEqual(request.start, 0x40_0000)
        XCTAssertEqual(request.direction, .toPrivate)
        TDVMCallCompletion(hypercallReturnValue: MapGPARange.returnValue(for: .converted, longMode: true))
            .apply(to: &guest, exposedMask: mask)
        XCTAssertEqual(guest.r10, 0)
        TDVMCallCompletion.subfunctionUnsupported.apply(to: &guest, exposedMask: mask)
        XCTAssertEqual(guest.r10, 0x8000_0000_0000_0003)
        XCTAssertEqual(guest.r11, 0x40_0000, "R11 is left alone")
    }

    func testSharedBitFromGPAW() {
        XCTAssertEqual(TDXGuestPhysicalAddressWidth.bits48.sharedBit, 0x8000_0000_0000)
        XCTAssertEqual(TDXGuestPhysicalAddressWidth.bits52.sharedBit, 0x8_0000_0000_0000)
        XCTAssertEqual(TDXGuestPhysicalAddressWidth(bits: 48), .bits48)
        XCTAssertEqual(TDXGuestPhysicalAddressWidth(bits: 52), .bits52)
        for bits: UInt64 in [0, 47, 50, 57, 1 << 32] {
            XCTAssertNil(TDXGuestPhysicalAddressWidth(bits: bits))
        }
    }

    func testVPInfo() {
        var out = TDCallRegisters()
        out.rax = 1
        TDXVPInfo(width: .bits52, attributes: 0x1000_0000, vcpuCount: 2, maxVCPUCount: 8, vcpuIndex: 1, sysRdAvailable: true)
            .apply(to: &out)
        XCTAssertEqual(out.rax, 0)
        XCTAssertEqual(out.rcx, 52)
        XCTAssertEqual(out.rdx, 0x1000_0000)
        XCTAssertEqual(out.r8, 0x0000_0008_0000_0002)
        XCTAssertEqual(out.r9, 1)
        XCTAssertEqual(out.r10, 1)
        XCTAssertEqual(out.r11, 0)
    }
}
