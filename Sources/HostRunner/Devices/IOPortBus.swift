/// The I/O port space: the first device that claims a port answers it; an unclaimed port
/// reads all ones (the floating ISA bus) and ignores writes, as on PC hardware and in
/// QEMU's unassigned I/O handling.
public final class IOPortBus {
    public private(set) var devices: [any PortDevice]

    public init(devices: [any PortDevice] = []) { self.devices = devices }

    public func attach(_ device: any PortDevice) { devices.append(device) }

    /// The device answering `port`, if any.
    public func device(at port: UInt16) -> (any PortDevice)? {
        for device in devices where device.claims(port: port) { return device }
        return nil
    }

    public func read(port: UInt16, size: Int) -> UInt32 {
        device(at: port)?.read(port: port, size: size) ?? allOnes(bytes: size)
    }

    public func write(port: UInt16, size: Int, value: UInt32) -> DeviceWriteEffect {
        device(at: port)?.write(port: port, size: size, value: value & allOnes(bytes: size)) ?? .none
    }
}
