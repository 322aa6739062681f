import XCTest

@testable import HostRunner

/// CF8/CFC against the figures of QEMU's q35 (hw/pci-host/q35.c, hw/isa/lpc_ich9.c,
/// hw/pci/pci_host.c) and edk2's use of them (OvmfPkg/Library/AcpiTimerLib/BaseRomAcpiTimerLib.c).
final class Q35PCIConfigTests: XCTestCase {
    /// CONFIG_ADDRESS for bus 0: enable bit 31, device 15:11, function 10:8, register 7:2.
    private func address(device: UInt32, function: UInt32 = 0, register: UInt32) -> UInt32 {
        0x8000_0000 | device << 11 | function << 8 | register & 0xFC
    }

    private func select(_ platform: Q35Platform, device: UInt32, register: UInt32) {
        XCTAssertEqual(platform.ports.write(port: 0xCF8, size: 4, value: address(device: device, register: register)), .none)
    }

    func testHostBridgeDeviceIDAsWordAndAsUpperHalfOfDword() {
        let platform = Q35Platform(ramSize: 1 << 30)
        select(platform, device: 0, register: 0)
        XCTAssertEqual(platform.ports.read(port: 0xCFE, size: 2), 0x29C0) // offset 2 as a word
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 4), 0x29C0_8086)
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 4) >> 16, 0x29C0)
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 2), 0x8086)
        XCTAssertEqual(platform.ports.read(port: 0xCFD, size: 1), 0x80)
        // Class code 0600 (host bridge) in bytes 0x0A–0x0B.
        select(platform, device: 0, register: 0x08)
        XCTAssertEqual(platform.ports.read(port: 0xCFE, size: 2), 0x0600)
    }

    func testLPCBridgeIdentity() {
        let platform = Q35Platform(ramSize: 1 << 30)
        select(platform, device: 0x1F, register: 0)
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 4), 0x2918_8086)
        select(platform, device: 0x1F, register: 0x08)
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 1), 2) // ICH9_A2_LPC_REVISION
        XCTAssertEqual(platform.ports.read(port: 0xCFE, size: 2), 0x0601) // ISA bridge
        select(platform, device: 0x1F, register: 0x40)
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 4), 1) // ICH9_LPC_PMBASE_DEFAULT
    }

    func testDisabledAddressAndAbsentFunctionsReadAllOnes() {
        let platform = Q35Platform(ramSize: 1 << 30)
        XCTAssertEqual(platform.ports.write(port: 0xCF8, size: 4, value: 0), .none) // bit 31 clear
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 4), 0xFFFF_FFFF)
        XCTAssertEqual(platform.ports.read(port: 0xCFE, size: 2), 0xFFFF)
        select(platform, device: 1, register: 0) // 00:01.0 absent
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 4), 0xFFFF_FFFF)
        XCTAssertEqual(platform.ports.write(port: 0xCFC, size: 4, value: 0), .none)
        XCTAssertEqual(platform.ports.write(port: 0xCF8, size: 4, value: 0x8001_0000), .none) // bus 1
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 2), 0xFFFF)
    }

    func testConfigAddressTakesOnlyDwordWrites() {
        let platform = Q35Platform(ramSize: 1 << 30)
        select(platform, device: 0, register: 0)
        XCTAssertEqual(platform.ports.write(port: 0xCF8, size: 2, value: 0xF800), .none)
        XCTAssertEqual(platform.ports.read(port: 0xCF8, size: 4), 0x8000_0000)
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 4), 0x29C0_8086)
    }

    func testReadOnlyIdentityIgnoresWrites() {
        let platform = Q35Platform(ramSize: 1 << 30)
        select(platform, device: 0, register: 0)
        XCTAssertEqual(platform.ports.write(port: 0xCFC, size: 4, value: 0x1234_5678), .none)
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 4), 0x29C0_8086)
    }

    func testPEIProgramsPCIEXBARAndRCBA() {
        let platform = Q35Platform(ramSize: 1 << 30)
        select(platform, device: 0, register: 0x60)
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 4), 0xB000_0000) // MCH_HOST_BRIDGE_PCIEXBAR_DEFAULT
        select(platform, device: 0, register: 0x64)
        _ = platform.ports.write(port: 0xCFC, size: 4, value: 0)
        select(platform, device: 0, register: 0x60)
        _ = platform.ports.write(port: 0xCFC, size: 4, value: 0xB000_0001)
        XCTAssertEqual(platform.hostBridge.pciexbar, 0xB000_0001)
        select(platform, device: 0x1F, register: 0xF0)
        _ = platform.ports.write(port: 0xCFC, size: 4, value: 0xFED1_C001)
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 4), 0xFED1_C001)
        XCTAssertEqual(platform.lpcBridge.rcba, 0xFED1_C001)
    }

    func testByteWritesAtEachDataPortLane() {
        let platform = Q35Platform(ramSize: 1 << 30)
        select(platform, device: 0x1F, register: 0x44)
        _ = platform.ports.write(port: 0xCFC, size: 1, value: 0x80) // ACPI_CNTL
        _ = platform.ports.write(port: 0xCFD, size: 1, value: 0x11) // 0x45
        _ = platform.ports.write(port: 0xCFE, size: 2, value: 0x3322) // 0x46–0x47
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 4), 0x3322_1180)
        XCTAssertEqual(platform.ports.read(port: 0xCFF, size: 1), 0x33)
    }
}
