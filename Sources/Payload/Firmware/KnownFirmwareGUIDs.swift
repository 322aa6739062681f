/// The GUIDs of the reset-vector table (edk2 OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm,
/// QEMU hw/i386/pc_sysfw_ovmf.c, hw/i386/tdvf.c) and of the SEV kernel-hash table
/// (QEMU target/i386/sev.c).
public enum KnownFirmwareGUID {
    /// Marks the end of the table; its entry's length covers the whole table.
    public static let footer = FirmwareGUID.known("96b582de-1fb2-45f7-baea-a366c55a082d")
    /// Data: u32 offset from the end of the image to the "ASEV" header.
    public static let sevMetadataOffset = FirmwareGUID.known("dc886566-984a-4798-a75e-5585a7bf67cc")
    /// Data: u32 offset from the end of the image to the "TDVF" descriptor.
    public static let tdxMetadataOffset = FirmwareGUID.known("e47a6535-984a-4798-865e-4685a7bf8ec2")
    /// Data: u32 GPA, u32 size of the area where the VMM places the kernel/initrd/cmdline hashes.
    public static let sevHashTableBlock = FirmwareGUID.known("7255371f-3a3b-4b04-927b-1da6efa8d454")
    /// Data: u32 GPA, u32 size of the area where the VMM injects the launch secret.
    public static let sevSecretBlock = FirmwareGUID.known("4c2eb361-7d9b-4cc3-8081-127c90d3d294")
    /// Data: u32 whose high 16 bits are the AP's CS base >> 16 and low 16 bits its IP.
    public static let sevESResetBlock = FirmwareGUID.known("00f771de-1a7e-4fcb-890e-68c77e2fb44e")
    /// The GUID that precedes the "TDVF" descriptor in the image (not a table entry).
    public static let tdxMetadata = FirmwareGUID.known("e9eaf9f3-168e-44d5-a8eb-7f4d8738f6ae")

    /// Header and entry GUIDs of the SEV kernel-hash table QEMU writes (target/i386/sev.c).
    public static let sevHashTableHeader = FirmwareGUID.known("9438d606-4f22-4cc9-b479-a793d411fd21")
    public static let sevKernelEntry = FirmwareGUID.known("4de79437-abd2-427f-b835-d5b172d2045b")
    public static let sevInitrdEntry = FirmwareGUID.known("44baf731-3a2f-4bd7-9af1-41e29169781d")
    public static let sevCmdlineEntry = FirmwareGUID.known("97d02dd8-bd20-4c94-aa78-e7714d36ab2a")

    /// A short name for a footer entry's GUID, or nil when we do not know it.
    public static func name(of guid: FirmwareGUID) -> String? {
        switch guid {
        case footer: return "footer"
        case sevMetadataOffset: return "sevMetadataOffset"
        case tdxMetadataOffset: return "tdxMetadataOffset"
        case sevHashTableBlock: return "sevHashTableBlock"
        case sevSecretBlock: return "sevSecretBlock"
        case sevESResetBlock: return "sevESResetBlock"
        default: return nil
        }
    }
}
