/// The Q35 host bridge (MCH) at 00:00.0 as QEMU's q35 machine presents it
/// (hw/pci-host/q35.c `mch_class_init`, `mch_reset`; include/hw/pci-host/q35.h): Intel
/// 8086:29C0 (PCI_DEVICE_ID_INTEL_Q35_MCH, include/hw/pci/pci_ids.h), revision 0, class
/// 0600 (host bridge), PCIEXBAR at 0x60 (64 bits) reset to 0xB0000000 and writable as
/// every byte from 0x40 up.
///
/// edk2's OVMF tells q35 from i440fx by this device ID (OvmfPkg/Include/IndustryStandard/
/// Q35MchIch9.h INTEL_Q35_MCH_DEVICE_ID, read in OvmfPkg/Library/AcpiTimerLib/
/// BaseRomAcpiTimerLib.c) and PEI programs PCIEXBAR (MCH_PCIEXBAR_LOW/HIGH 0x60/0x64).
public final class Q35HostBridge: PCIFunction {
    public static let deviceID: UInt16 = 0x29C0
    public static let pciexbarOffset = 0x60
    public static let pciexbarReset: UInt64 = 0xB000_0000

    public private(set) var config: PCIConfigSpace

    public init() {
        config = PCIConfigSpace(vendor: 0x8086, device: Self.deviceID, revision: 0, classCode: 0x0600)
        config.set(Self.pciexbarOffset, bytes: 8, Self.pciexbarReset)
    }

    /// PCIEXBAR as programmed: base (bits 35:28 for 256 MiB), length field, enable bit 0.
    public var pciexbar: UInt64 {
        UInt64(config.read(offset: Self.pciexbarOffset, size: 4))
            | UInt64(config.read(offset: Self.pciexbarOffset + 4, size: 4)) << 32
    }

    public func readConfig(offset: Int, size: Int) -> UInt32 { config.read(offset: offset, size: size) }
    public func writeConfig(offset: Int, size: Int, value: UInt32) { config.write(offset: offset, size: size, value: value) }
}
