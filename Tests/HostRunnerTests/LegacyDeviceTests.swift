import XCTest

@testable import HostRunner

/// CMOS (QEMU hw/i386/pc.c pc_cmos_init, hw/rtc/mc146818rtc.c), the PICs (hw/intc/i8259.c),
/// port 0x92 (hw/isa/port92.c), the floating bus, and the local APIC (Intel SDM vol. 3 §11.4).
final class LegacyDeviceTests: XCTestCase {
    private func cmos(_ platform: Q35Platform, _ register: UInt8) -> UInt32 {
        _ = platform.ports.write(port: 0x70, size: 1, value: UInt32(register))
        return platform.ports.read(port: 0x71, size: 1)
    }

    func testCMOSMemorySizeForOneGiB() {
        // 1 GiB: all below 4 GiB; (1024 − 16) MiB / 64 KiB = 16128 = 0x3F00.
        let platform = Q35Platform(ramSize: 1 << 30)
        XCTAssertEqual(cmos(platform, 0x34), 0x00)
        XCTAssertEqual(cmos(platform, 0x35), 0x3F)
        XCTAssertEqual([cmos(platform, 0x5B), cmos(platform, 0x5C), cmos(platform, 0x5D)], [0, 0, 0])
        XCTAssertEqual([cmos(platform, 0x15), cmos(platform, 0x16)], [0x80, 0x02]) // 640 KiB
        XCTAssertEqual([cmos(platform, 0x17), cmos(platform, 0x18)], [0xFF, 0xFF]) // capped at 65535
        // edk2 MemDetect.c: ((0x35 << 8 | 0x34) << 16) + 16 MiB = 1 GiB.
        XCTAssertEqual((cmos(platform, 0x35) << 8 | cmos(platform, 0x34)) << 16 + 0, 0x3F00_0000)
        XCTAssertEqual(UInt64(cmos(platform, 0x35) << 8 | cmos(platform, 0x34)) << 16 + (16 << 20), 1 << 30)
    }

    func testCMOSMemorySizeForThreeGiB() {
        // 3 GiB ≥ 0xB0000000: q35 keeps 2 GiB below 4 GiB, 1 GiB above.
        let platform = Q35Platform(ramSize: 3 << 30, cpuCount: 2)
        XCTAssertEqual(cmos(platform, 0x34), 0x00)
        XCTAssertEqual(cmos(platform, 0x35), 0x7F) // (2048 − 16) MiB / 64 KiB = 0x7F00
        XCTAssertEqual([cmos(platform, 0x5B), cmos(platform, 0x5C), cmos(platform, 0x5D)], [0x00, 0x40, 0x00]) // 1 GiB / 64 KiB = 0x4000
        XCTAssertEqual(cmos(platform, 0x5F), 1) // CPUs − 1
    }

    func testQ35SplitBoundary() {
        let below = CMOSMemorySize(q35RAMSize: 0xAFFF_0000)
        XCTAssertEqual(below.belowFourGiB, 0xAFFF_0000)
        XCTAssertEqual(below.aboveFourGiB, 0)
        let at = CMOSMemorySize(q35RAMSize: 0xB000_0000)
        XCTAssertEqual(at.belowFourGiB, 0x8000_0000)
        XCTAssertEqual(at.aboveFourGiB, 0x3000_0000)
    }

    func testCMOSIndexDropsTheNMIBitAndRegister0FIsWritable() {
        let platform = Q35Platform(ramSize: 1 << 30)
        XCTAssertEqual(cmos(platform, 0x8F), 0) // NMI-disable | 0x0F
        _ = platform.ports.write(port: 0x70, size: 1, value: 0x8F)
        _ = platform.ports.write(port: 0x71, size: 1, value: 0x0A)
        XCTAssertEqual(cmos(platform, 0x0F), 0x0A)
        XCTAssertEqual(platform.ports.read(port: 0x70, size: 1), 0xFF)
        XCTAssertEqual([cmos(platform, 0x0A), cmos(platform, 0x0B), cmos(platform, 0x0D)], [0x26, 0x02, 0x80])
    }

    func testPICMasksAfterInitialisation() {
        let platform = Q35Platform(ramSize: 1 << 30)
        XCTAssertEqual(platform.ports.read(port: 0x21, size: 1), 0) // IMR 0 after reset
        // ICW1 (edge, cascade, ICW4), ICW2 vector 0x08, ICW3 slave on IR2, ICW4 8086 mode.
        for (port, value) in [
            (0x20, 0x11), (0x21, 0x08), (0x21, 0x04), (0x21, 0x01),
            (0xA0, 0x11), (0xA1, 0x70), (0xA1, 0x02), (0xA1, 0x01),
        ] as [(UInt16, UInt32)] {
            XCTAssertEqual(platform.ports.write(port: port, size: 1, value: value), .none)
        }
        XCTAssertEqual(platform.pic.master.vectorBase, 0x08)
        XCTAssertEqual(platform.pic.slave.vectorBase, 0x70)
        XCTAssertEqual(platform.ports.read(port: 0x21, size: 1), 0) // the ICWs are not masks
        // SecMain.c: IoWrite8 (0x21, 0xff); IoWrite8 (0xA1, 0xff).
        _ = platform.ports.write(port: 0x21, size: 1, value: 0xFF)
        _ = platform.ports.write(port: 0xA1, size: 1, value: 0xFF)
        XCTAssertEqual(platform.ports.read(port: 0x21, size: 1), 0xFF)
        XCTAssertEqual(platform.ports.read(port: 0xA1, size: 1), 0xFF)
        _ = platform.ports.write(port: 0x20, size: 1, value: 0x11) // a new ICW1 clears IMR
        XCTAssertEqual(platform.ports.read(port: 0x21, size: 1), 0)
    }

    func testPort92FastResetOnRisingBitZero() {
        let platform = Q35Platform(ramSize: 1 << 30)
        XCTAssertEqual(platform.ports.write(port: 0x92, size: 1, value: 0x02), .none)
        XCTAssertTrue(platform.port92.a20Enabled)
        XCTAssertEqual(platform.ports.read(port: 0x92, size: 1), 0x02)
        XCTAssertEqual(platform.ports.write(port: 0x92, size: 1, value: 0x03), .systemReset)
        XCTAssertEqual(platform.ports.write(port: 0x92, size: 1, value: 0x03), .none) // already set
    }

    func testUnclaimedPortsFloatHigh() {
        let platform = Q35Platform(ramSize: 1 << 30)
        XCTAssertEqual(platform.ports.read(port: 0x80, size: 1), 0xFF)
        XCTAssertEqual(platform.ports.read(port: 0x402, size: 2), 0xFFFF)
        XCTAssertEqual(platform.ports.read(port: 0x510, size: 4), 0xFFFF_FFFF)
        XCTAssertEqual(platform.ports.write(port: 0x80, size: 1, value: 0x12), .none)
    }

    func testLocalAPICResetValuesAndStoredWrites() {
        let apic = LocalAPIC(apicID: 3)
        let base = LocalAPIC.base
        XCTAssertTrue(apic.claims(address: base + 0xF0))
        XCTAssertFalse(apic.claims(address: base + 0x1000))
        XCTAssertEqual(apic.read(address: base + 0x20, size: 4), 0x0300_0000) // ID in bits 31:24
        XCTAssertEqual(apic.read(address: base + 0xF0, size: 4), 0x0000_00FF) // SVR after reset
        XCTAssertEqual(apic.read(address: base + 0x320, size: 4), 0x0001_0000) // LVT timer masked
        XCTAssertEqual(apic.read(address: base + 0x350, size: 4), 0x0001_0000) // LINT0
        XCTAssertEqual(apic.read(address: base + 0x360, size: 4), 0x0001_0000) // LINT1
        XCTAssertEqual(apic.read(address: base + 0x380, size: 4), 0) // initial count
        XCTAssertEqual(apic.read(address: base + 0xE0, size: 4), 0xFFFF_FFFF) // DFR
        // What SEC and PEI write reads back.
        for (offset, value) in [(0xF0, 0x1FF), (0x320, 0x0002_0030), (0x380, 0xFFFF_FFFF), (0x350, 0x700), (0x360, 0x400)]
            as [(UInt64, UInt32)]
        {
            XCTAssertEqual(apic.write(address: base + offset, size: 4, value: value), .none)
            XCTAssertEqual(apic.read(address: base + offset, size: 4), value)
        }
        // Read-only: version and current count ignore writes.
        _ = apic.write(address: base + 0x30, size: 4, value: 0)
        XCTAssertEqual(apic.read(address: base + 0x30, size: 4), 0x0005_0014)
        _ = apic.write(address: base + 0x390, size: 4, value: 5)
        XCTAssertEqual(apic.read(address: base + 0x390, size: 4), 0)
    }
}
