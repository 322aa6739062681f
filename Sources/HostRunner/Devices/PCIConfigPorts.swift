/// PCI configuration mechanism #1 on ports 0xCF8–0xCFF (PCI Local Bus Specification 3.0
/// §3.2.2.3.2), as QEMU's hw/pci/pci_host.c implements it:
/// - CONFIG_ADDRESS (0xCF8) takes only 32-bit writes at 0xCF8 (`pci_host_config_write`);
///   reads return it (truncated to the access size).
/// - CONFIG_DATA (0xCFC + n, any size) reads all ones while bit 31 (enable) is clear and
///   ignores writes (`pci_host_data_read/write`); otherwise it addresses bus (bits 23:16),
///   device/function (15:8) and the register (7:0) ORed with n (`pci_data_read`); an
///   absent function reads all ones and drops writes.
/// Only bus 0 exists here.
public final class PCIConfigPorts: PortDevice {
    public static let addressPort: UInt16 = 0xCF8
    public static let dataPort: UInt16 = 0xCFC

    public private(set) var configAddress: UInt32 = 0
    private var functions: [UInt8: any PCIFunction]

    /// `functions` keyed by devfn (device << 3 | function) on bus 0.
    public init(functions: [UInt8: any PCIFunction]) { self.functions = functions }

    public static func devfn(device: UInt8, function: UInt8) -> UInt8 { device << 3 | function }

    public func claims(port: UInt16) -> Bool { (Self.addressPort...Self.dataPort + 3).contains(port) }

    public func read(port: UInt16, size: Int) -> UInt32 {
        if port < Self.dataPort { return configAddress & allOnes(bytes: size) }
        guard let (function, offset) = target(port: port) else { return allOnes(bytes: size) }
        return function.readConfig(offset: offset, size: size)
    }

    public func write(port: UInt16, size: Int, value: UInt32) -> DeviceWriteEffect {
        if port < Self.dataPort {
            if port == Self.addressPort && size == 4 { configAddress = value }
            return .none
        }
        if let (function, offset) = target(port: port) { function.writeConfig(offset: offset, size: size, value: value) }
        return .none
    }

    /// The enabled, present function and register offset a data-port access goes to.
    private func target(port: UInt16) -> (any PCIFunction, Int)? {
        guard configAddress & (1 << 31) != 0 else { return nil }
        let address = configAddress | UInt32(port & 3)
        guard (address >> 16) & 0xFF == 0, let function = functions[UInt8(truncatingIfNeeded: address >> 8)] else { return nil }
        return (function, Int(address & 0xFF))
    }
}
