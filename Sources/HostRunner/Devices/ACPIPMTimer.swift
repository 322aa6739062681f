/// The ACPI power-management timer of the ICH9 PM I/O block: a 24-bit up-counter at
/// 3.579545 MHz (the ACPI specification's "Power Management Timer", PM_TMR; QEMU
/// include/hw/acpi/acpi.h PM_TIMER_FREQUENCY), 4 bytes at PMBASE + 8 (edk2 OvmfPkg/Include/
/// OvmfPlatforms.h ACPI_TIMER_OFFSET), decoded only while the LPC bridge maps the PM block
/// (PMBASE set and ACPI_CNTL.ACPI_EN).
///
/// The count is QEMU's (hw/acpi/core.c `acpi_pm_tmr_get`): ticks = elapsed ns × 3579545 /
/// 10⁹, low 24 bits, here from the moment the device was made. Narrower reads return the
/// matching bytes of the 32-bit register (`acpi_pm_tmr_ops`: impl 4 bytes, valid 1–4);
/// writes are ignored.
public final class ACPIPMTimer: PortDevice {
    public static let frequencyHz: UInt64 = 3_579_545
    public static let registerOffset: UInt16 = 8
    static let counterMask: UInt32 = 0x00FF_FFFF

    private let lpc: ICH9LPCBridge
    private let clock: MonotonicClock
    private let start: UInt64

    public init(lpc: ICH9LPCBridge, clock: MonotonicClock = .system) {
        self.lpc = lpc
        self.clock = clock
        self.start = clock.nanoseconds()
    }

    /// The counter value `elapsed` nanoseconds after the start.
    public static func count(afterNanoseconds elapsed: UInt64) -> UInt32 {
        let product = elapsed.multipliedFullWidth(by: frequencyHz)
        let ticks = 1_000_000_000 as UInt64
        // The quotient fits: elapsed × f / 10⁹ < elapsed since f < 10⁹.
        let (quotient, _) = ticks.dividingFullWidth((high: product.high, low: product.low))
        return UInt32(truncatingIfNeeded: quotient) & counterMask
    }

    public var count: UInt32 { Self.count(afterNanoseconds: clock.nanoseconds() &- start) }

    public func claims(port: UInt16) -> Bool {
        guard let base = lpc.pmIOBase else { return false }
        return port >= base + Self.registerOffset && port < base + Self.registerOffset + 4
    }

    public func read(port: UInt16, size: Int) -> UInt32 {
        guard let base = lpc.pmIOBase else { return allOnes(bytes: size) }
        let shift = UInt32(port - base - Self.registerOffset) * 8
        return (count >> shift) & allOnes(bytes: size)
    }

    public func write(port: UInt16, size: Int, value: UInt32) -> DeviceWriteEffect { .none }
}
