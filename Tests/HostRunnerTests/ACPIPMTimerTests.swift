import Synchronization
import XCTest

@testable import HostRunner

/// The ACPI PM timer: 3.579545 MHz, 24 bits (ACPI "Power Management Timer"; QEMU
/// hw/acpi/core.c), mapped at PMBASE + 8 only once ACPI_CNTL.ACPI_EN is set
/// (QEMU hw/isa/lpc_ich9.c ich9_lpc_pmbase_sci_update).
final class ACPIPMTimerTests: XCTestCase {
    private final class ManualClock: Sendable {
        let now = Mutex<UInt64>(5_000_000_000)
        var clock: MonotonicClock { MonotonicClock { [self] in now.withLock { $0 } } }
        func advance(_ nanoseconds: UInt64) { now.withLock { $0 += nanoseconds } }
    }

    func testCountFromElapsedNanoseconds() {
        XCTAssertEqual(ACPIPMTimer.count(afterNanoseconds: 0), 0)
        XCTAssertEqual(ACPIPMTimer.count(afterNanoseconds: 1_000_000_000), 3_579_545) // one second
        XCTAssertEqual(ACPIPMTimer.count(afterNanoseconds: 1_000_000), 3_579) // 3579.545 ticks
        XCTAssertEqual(ACPIPMTimer.count(afterNanoseconds: 280), 1) // one tick ≈ 279.4 ns
        // 5 s = 17 897 725 ticks, past 2^24 = 16 777 216: wraps to 1 120 509.
        XCTAssertEqual(ACPIPMTimer.count(afterNanoseconds: 5_000_000_000), 1_120_509)
        // A day of uptime (no overflow in the multiplication): 309 272 688 000 ticks mod 2^24.
        XCTAssertEqual(ACPIPMTimer.count(afterNanoseconds: 86_400_000_000_000), UInt32(309_272_688_000 % 16_777_216))
    }

    func testOVMFProgramsPMBaseThenReadsTheTimer() {
        let time = ManualClock()
        let platform = Q35Platform(ramSize: 1 << 30, clock: time.clock)
        time.advance(1_000_000_000)
        // Before ACPI_EN nothing answers at 0x608.
        XCTAssertEqual(platform.ports.read(port: 0x608, size: 4), 0xFFFF_FFFF)
        // BaseRomAcpiTimerLib: PciAndThenOr32 (PMBASE, ~0xFF80, 0x600); PciOr8 (ACPI_CNTL, 0x80).
        _ = platform.ports.write(port: 0xCF8, size: 4, value: 0x8000_F840)
        let pmBase = platform.ports.read(port: 0xCFC, size: 4)
        _ = platform.ports.write(port: 0xCFC, size: 4, value: pmBase & ~0xFF80 | 0x600)
        XCTAssertEqual(platform.ports.read(port: 0xCFC, size: 4), 0x601)
        XCTAssertEqual(platform.ports.read(port: 0x608, size: 4), 0xFFFF_FFFF) // PMBASE alone: still off
        _ = platform.ports.write(port: 0xCF8, size: 4, value: 0x8000_F844)
        let control = platform.ports.read(port: 0xCFC, size: 1)
        _ = platform.ports.write(port: 0xCFC, size: 1, value: control | 0x80)
        XCTAssertEqual(platform.lpcBridge.pmIOBase, 0x600)
        // IoRead32 ((PMBASE & ~1) + 8), one second after the device was made.
        XCTAssertEqual(platform.ports.read(port: 0x608, size: 4), 3_579_545)
        time.advance(1_000_000)
        XCTAssertEqual(platform.ports.read(port: 0x608, size: 4), 3_579_545 + 3_579)
        XCTAssertEqual(platform.ports.read(port: 0x609, size: 1), (3_583_124 >> 8) & 0xFF)
        XCTAssertEqual(platform.ports.read(port: 0x60C, size: 4), 0xFFFF_FFFF) // past the timer
        // Clearing ACPI_EN unmaps it again.
        _ = platform.ports.write(port: 0xCFC, size: 1, value: 0)
        XCTAssertEqual(platform.ports.read(port: 0x608, size: 4), 0xFFFF_FFFF)
    }
}
