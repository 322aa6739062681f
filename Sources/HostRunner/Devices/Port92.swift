/// System control port A (0x92) as QEMU models it (hw/isa/port92.c, formerly hw/i386/pc.c):
/// a byte that reads back as written; bit 1 drives A20; bit 0 going from 0 to 1 asks for
/// a system reset ("fast reset").
public final class Port92: PortDevice {
    public static let port: UInt16 = 0x92
    public private(set) var value: UInt8 = 0

    public init() {}

    /// Whether the A20 gate is open by this port (bit 1).
    public var a20Enabled: Bool { value & 0x02 != 0 }

    public func claims(port: UInt16) -> Bool { port == Self.port }

    public func read(port: UInt16, size: Int) -> UInt32 { UInt32(value) }

    public func write(port: UInt16, size: Int, value newValue: UInt32) -> DeviceWriteEffect {
        let old = value
        value = UInt8(truncatingIfNeeded: newValue)
        return value & 1 != 0 && old & 1 == 0 ? .systemReset : .none
    }
}
