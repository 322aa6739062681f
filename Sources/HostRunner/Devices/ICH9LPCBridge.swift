/// The ICH9 LPC/ISA bridge at 00:1f.0 as QEMU's q35 machine presents it
/// (hw/isa/lpc_ich9.c `ich9_lpc_class_init`, `ich9_lpc_reset`, `ich9_lpc_realize`,
/// `ich9_lpc_pmbase_sci_update`; include/hw/southbridge/ich9.h): Intel 8086:2918
/// (PCI_DEVICE_ID_INTEL_ICH9_8), revision 2 (ICH9_A2_LPC_REVISION), class 0601 (ISA
/// bridge).
///
/// - PMBASE (0x40, 32 bits) resets to 1 (the I/O-space indicator); bits 15:7 are the base
///   (ICH9_LPC_PMBASE_BASE_ADDRESS_MASK 0xFF80). QEMU's realize also writes the ACPI_CNTL
///   mask 0x87 into PMBASE's low byte of the write mask, so bits 7 and 2:0 of that byte
///   take writes; this model keeps that.
/// - ACPI_CNTL (0x44) resets to 0; bit 7 (ACPI_EN) switches the PM I/O block on. QEMU maps
///   the block at PMBASE & 0xFF80 only while ACPI_EN is set (`ich9_lpc_pmbase_sci_update`).
/// - RCBA (0xF0) resets to 0 and is writable (edk2 PEI writes 0xFED1C001).
///
/// OVMF's SEC writes PMBASE ← 0x600 | 1 and ACPI_CNTL |= 0x80 (OvmfPkg/Library/
/// AcpiTimerLib/BaseRomAcpiTimerLib.c, OvmfPkg/Include/OvmfPlatforms.h ICH9_PMBASE_VALUE),
/// then reads the ACPI timer at PMBASE + 8.
public final class ICH9LPCBridge: PCIFunction {
    public static let deviceID: UInt16 = 0x2918
    public static let pmBaseOffset = 0x40
    public static let acpiControlOffset = 0x44
    public static let rcbaOffset = 0xF0
    static let pmBaseAddressMask: UInt32 = 0xFF80
    static let acpiEnable: UInt8 = 0x80

    public private(set) var config: PCIConfigSpace

    public init() {
        config = PCIConfigSpace(vendor: 0x8086, device: Self.deviceID, revision: 2, classCode: 0x0601)
        config.set(Self.pmBaseOffset, bytes: 4, UInt32(1))
        config.setWriteMask(Self.pmBaseOffset, bytes: 4, Self.pmBaseAddressMask)
        config.setWriteMask(Self.pmBaseOffset, bytes: 1, 0x87) // ACPI_EN | SCI_IRQ_SEL_MASK, as QEMU does
    }

    /// Where the ACPI PM I/O block (128 bytes) decodes now: PMBASE's base bits while
    /// ACPI_CNTL.ACPI_EN is set, nil otherwise (and nil for base 0, which QEMU leaves unmapped).
    public var pmIOBase: UInt16? {
        guard UInt8(config.read(offset: Self.acpiControlOffset, size: 1)) & Self.acpiEnable != 0 else { return nil }
        let base = UInt16(config.read(offset: Self.pmBaseOffset, size: 4) & Self.pmBaseAddressMask)
        return base == 0 ? nil : base
    }

    /// RCBA as programmed (base bits 31:14, enable bit 0).
    public var rcba: UInt32 { config.read(offset: Self.rcbaOffset, size: 4) }

    public func readConfig(offset: Int, size: Int) -> UInt32 { config.read(offset: offset, size: size) }
    public func writeConfig(offset: Int, size: Int, value: UInt32) { config.write(offset: offset, size: size, value: value) }
}
