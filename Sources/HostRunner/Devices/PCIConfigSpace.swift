/// One PCI function's 256-byte configuration space with QEMU's per-byte write mask
/// (hw/pci/pci.c `pci_default_write_config`: each written byte keeps its read-only bits
/// and takes the writable ones from the value; `pci_init_wmask`: Command bits IO, Memory,
/// Master, SERR and INTx-disable, Cache Line Size, Interrupt Line, and every byte from 0x40
/// up writable unless the device narrows it).
public struct PCIConfigSpace: Equatable, Sendable {
    public private(set) var bytes: [UInt8]
    var writeMask: [UInt8]

    /// A type-0 header with these identifiers and QEMU's default write mask.
    public init(vendor: UInt16, device: UInt16, revision: UInt8, classCode: UInt16, headerType: UInt8 = 0) {
        bytes = [UInt8](repeating: 0, count: 256)
        writeMask = [UInt8](repeating: 0, count: 256)
        for offset in 0x40..<0x100 { writeMask[offset] = 0xFF }
        setWriteMask(0x04, bytes: 2, 0x0507) // PCI_COMMAND: IO | MEMORY | MASTER | SERR | INTX_DISABLE
        writeMask[0x0C] = 0xFF // PCI_CACHE_LINE_SIZE
        writeMask[0x3C] = 0xFF // PCI_INTERRUPT_LINE
        set(0x00, bytes: 2, UInt32(vendor))
        set(0x02, bytes: 2, UInt32(device))
        bytes[0x08] = revision
        set(0x0A, bytes: 2, UInt32(classCode)) // PCI_CLASS_DEVICE (sub-class, class)
        bytes[0x0E] = headerType
    }

    /// Reads `size` bytes at `offset`, little-endian; bytes past 0xFF are not read (QEMU
    /// `pci_host_config_read_common` shortens the access to the space), so they read 0.
    public func read(offset: Int, size: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<size where offset + i < bytes.count { value |= UInt32(bytes[offset + i]) << UInt32(8 * i) }
        return value
    }

    /// A guest write: each byte through the write mask.
    public mutating func write(offset: Int, size: Int, value: UInt32) {
        for i in 0..<size where offset + i < bytes.count {
            let byte = UInt8(truncatingIfNeeded: value >> UInt32(8 * i)), mask = writeMask[offset + i]
            bytes[offset + i] = (bytes[offset + i] & ~mask) | (byte & mask)
        }
    }

    /// Sets bytes regardless of the mask (reset values).
    mutating func set(_ offset: Int, bytes count: Int, _ value: UInt64) {
        for i in 0..<count { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) }
    }

    mutating func set(_ offset: Int, bytes count: Int, _ value: UInt32) { set(offset, bytes: count, UInt64(value)) }

    mutating func setWriteMask(_ offset: Int, bytes count: Int, _ mask: UInt32) {
        for i in 0..<count { writeMask[offset + i] = UInt8(truncatingIfNeeded: mask >> UInt32(8 * i)) }
    }
}

/// A function on the PCI bus, addressed through configuration mechanism #1.
public protocol PCIFunction: AnyObject {
    func readConfig(offset: Int, size: Int) -> UInt32
    func writeConfig(offset: Int, size: Int, value: UInt32)
}
