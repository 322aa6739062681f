import CKVM
import XCTest

@testable import KVM

/// KVM_GET_FPU / KVM_SET_FPU and KVM_GET_XSAVE / KVM_SET_XSAVE through the VCPU wrapper on
/// a fresh vCPU.
final class FPUTests: XCTestCase {
    func testIoctlNumbersMatchTheIOCFormula() {
        // include/uapi/linux/kvm.h: _IOR/_IOW(KVMIO, 0x8c/0x8d, struct kvm_fpu) and
        // (0xa4/0xa5, struct kvm_xsave); kvm_fpu is 416 bytes, kvm_xsave 4096.
        XCTAssertEqual(MemoryLayout<kvm_fpu>.size, 416)
        XCTAssertEqual(MemoryLayout<kvm_xsave>.size, 4096)
        XCTAssertEqual(CKVM_IOCTL_GET_FPU, 2 << 30 | 416 << 16 | 0xAE << 8 | 0x8C)
        XCTAssertEqual(CKVM_IOCTL_SET_FPU, 1 << 30 | 416 << 16 | 0xAE << 8 | 0x8D)
        XCTAssertEqual(CKVM_IOCTL_GET_XSAVE, 2 << 30 | 4096 << 16 | 0xAE << 8 | 0xA4)
        XCTAssertEqual(CKVM_IOCTL_SET_XSAVE, 1 << 30 | 4096 << 16 | 0xAE << 8 | 0xA5)
    }

    func testControlWordRoundTripsThroughKVMFPU() throws {
        try requireKVM()
        let vcpu = try KVMSystem.open().createVM().createVCPU()
        var fpu = try vcpu.getFPU()
        XCTAssertNotEqual(fpu.fcw, 0x027F)
        fpu.fcw = 0x027F
        fpu.fsw = 0x0020
        fpu.mxcsr = 0x1FA0
        try vcpu.setFPU(fpu)
        let back = try vcpu.getFPU()
        XCTAssertEqual(back.fcw, 0x027F)
        XCTAssertEqual(back.fsw, 0x0020)
        // arch/x86/kvm/x86.c kvm_arch_vcpu_ioctl_get_fpu/_set_fpu copy every field but mxcsr:
        // it reads 0 and a written value does not reach the vCPU's MXCSR.
        XCTAssertEqual(back.mxcsr, 0)
        XCTAssertNotEqual(try vcpu.getXSAVE().mxcsr, 0x1FA0)
    }

    func testControlWordAndMXCSRRoundTripThroughXSAVE() throws {
        try requireKVM()
        let vcpu = try KVMSystem.open().createVM().createVCPU()
        var area = try vcpu.getXSAVE()
        // x87/SSE init values (SDM vol. 1 §13.6: FCW 037FH, MXCSR 1F80H); DAZ is always in the mask.
        XCTAssertEqual(area.mxcsr, 0x1F80)
        XCTAssertEqual(area.mxcsrMask & 0xFFFF, 0xFFFF)
        area.fcw = 0x027F
        area.mxcsr = 0x1FA0
        area.xstateBV |= XSAVEArea.x87AndSSE
        try vcpu.setXSAVE(area)
        let back = try vcpu.getXSAVE()
        XCTAssertEqual(back.fcw, 0x027F)
        XCTAssertEqual(back.mxcsr, 0x1FA0)
        XCTAssertEqual(try vcpu.getFPU().fcw, 0x027F)
    }
}
