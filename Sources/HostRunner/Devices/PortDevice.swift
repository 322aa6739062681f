/// A device on the x86 I/O port bus, answering port reads and writes as a pure model: no
/// I/O, no clock but the one it is given. `size` is the access width in bytes (1, 2 or 4);
/// values are little-endian in the low `size` bytes.
public protocol PortDevice: AnyObject {
    /// Whether the device decodes `port` right now (a device may move, as the ACPI PM
    /// block does when firmware programs PMBASE).
    func claims(port: UInt16) -> Bool
    func read(port: UInt16, size: Int) -> UInt32
    func write(port: UInt16, size: Int, value: UInt32) -> DeviceWriteEffect
}

/// A device on the physical-address bus (MMIO), answering 32-bit register accesses.
public protocol MMIODevice: AnyObject {
    func claims(address: UInt64) -> Bool
    func read(address: UInt64, size: Int) -> UInt32
    func write(address: UInt64, size: Int, value: UInt32) -> DeviceWriteEffect
}

/// What a write asks of the machine beyond the device's own state.
public enum DeviceWriteEffect: Equatable, Sendable {
    case none
    /// The guest asked for a system reset (port 0x92 bit 0 rising).
    case systemReset
}

/// The all-ones value of `size` bytes: what an unclaimed port or an absent PCI function
/// reads as (the data lines float high).
func allOnes(bytes size: Int) -> UInt32 {
    size >= 4 ? 0xFFFF_FFFF : (UInt32(1) << UInt32(8 * max(size, 0))) &- 1
}
