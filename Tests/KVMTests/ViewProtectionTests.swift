import CKVM
import XCTest

@testable import KVM

#if canImport(Glibc)
import Glibc
#endif

/// What the runner's software enforcement of private memory stands on, measured on this host:
/// RAM's file (guest_memfd, or the memfd stand-in; both where the host has both) mapped twice
/// (the guest's view, the host's own), the guest's view made PROT_NONE page by page, and an
/// access to such a page cancelled without effect.
final class ViewProtectionTests: XCTestCase {
    /// mov al, [0x3000]; out 0x10, al; hlt
    private let readThenReport: [UInt8] = [0xA0, 0x00, 0x30, 0xE6, 0x10, 0xF4]

    func testProtectedGuestViewExitsAsMMIOAndTheAccessCanBeCancelledAndRetried() throws {
        try requireKVM()
        for backing in try RealModeGuest.Backing.files() { try protectedViewExitsAsMMIO(backing) }
    }

    private func protectedViewExitsAsMMIO(_ backing: RealModeGuest.Backing) throws {
        let guest = try RealModeGuest(code: readThenReport, backing: backing)
        let file = try XCTUnwrap(guest.file)
        let hostView = try file.map() // a second mapping: the host's own
        let guestView = try XCTUnwrap(guest.memory as? GuestMapping)
        try hostView.write([0x42], at: 0x3000)
        XCTAssertEqual(mprotect(guestView.base + 0x3000, 0x1000, PROT_NONE), 0)

        guard case let .mmio(address, isWrite, length, data) = try guest.run() else { return XCTFail("expected an MMIO exit") }
        XCTAssertEqual(address, 0x3000)
        XCTAssertFalse(isWrite)
        XCTAssertEqual(length, 1)
        let before = try guest.vcpu.getRegisters()
        XCTAssertEqual(before.rip, RealModeGuest.entry, "RIP is still at the faulting instruction")

        // Cancel: complete the access with immediate_exit set (KVM finishes the emulated
        // instruction, then returns EINTR before entering the guest), then put the registers
        // back as they were before the instruction.
        data[0] = 0x99
        ckvm_run_set_immediate_exit(guest.vcpu.runPointer, 1)
        guard case .interrupted = try guest.vcpu.run() else { return XCTFail("expected EINTR from immediate_exit") }
        let after = try guest.vcpu.getRegisters()
        XCTAssertEqual(after.rip, RealModeGuest.entry + 3, "the instruction retired")
        XCTAssertEqual(after.rax & 0xFF, 0x99)
        try guest.vcpu.setRegisters(before)

        // Retry with the guest's view restored: it reads what the host wrote through its own.
        XCTAssertEqual(mprotect(guestView.base + 0x3000, 0x1000, PROT_READ | PROT_WRITE), 0)
        XCTAssertEqual(try guest.expectOut(port: 0x10), 0x42)
    }
}

extension ViewProtectionTests {
    /// The SEV-SNP layout needs the same RAM bytes at two GPAs (C-bit clear and set): RAM's
    /// binding at one, a plain memslot over a second mapping of its file at the other.
    /// mov ax, 0x1000; mov ds, ax; mov al, [0x3000] (linear 0x13000: the second view, 64 KiB
    /// up); out 0x10, al; hlt
    func testAPlainMemslotOverASecondMappingOfRAMsFileSeesTheSameBytes() throws {
        try requireKVM()
        let code: [UInt8] = [0xB8, 0x00, 0x10, 0x8E, 0xD8, 0xA0, 0x00, 0x30, 0xE6, 0x10, 0xF4]
        for backing in try RealModeGuest.Backing.files() {
            let guest = try RealModeGuest(code: code, backing: backing)
            let file = try XCTUnwrap(guest.file)
            let secondView = try file.map()
            try guest.vm.setUserMemoryRegion(slot: 1, guestPhysicalAddress: 0x1_0000, size: 0x1_0000, userspaceAddress: secondView.userspaceAddress)
            try secondView.write([0x5A], at: 0x3000)
            XCTAssertEqual(try guest.expectOut(port: 0x10), 0x5A, "\(backing)")
        }
    }
}
