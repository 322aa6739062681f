/// The SEV-ES AP reset block: where an AP starts, encoded as edk2 documents it (high 16 bits:
/// CS base >> 16, low 16 bits: IP), so the VMM builds a real-mode CS:IP for the AP's VMSA.
public struct SEVESResetBlock: Equatable, Sendable {
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The AP's CS segment base.
    public var csBase: UInt32 { rawValue & 0xFFFF_0000 }
    /// The AP's IP (RIP in the VMSA).
    public var ip: UInt32 { rawValue & 0xFFFF }

    static func parse(_ footer: FooterTable) throws(FirmwareError) -> SEVESResetBlock? {
        guard let entry = footer.entry(KnownFirmwareGUID.sevESResetBlock) else { return nil }
        guard let value = entry.data.readLE(UInt32.self, at: 0) else {
            throw .entryDataTooShort(structure: .sevESResetBlock, length: entry.data.count, needed: 4)
        }
        return SEVESResetBlock(rawValue: value)
    }
}

/// A guest RAM area the footer reserves for the VMM: the kernel-hash table or the launch secret.
/// Data: u32 GPA, u32 size.
public struct SEVGuestArea: Equatable, Sendable {
    public let gpa: UInt32
    public let size: UInt32

    public init(gpa: UInt32, size: UInt32) {
        self.gpa = gpa
        self.size = size
    }

    static func parse(_ footer: FooterTable, guid: FirmwareGUID, structure: FirmwareStructure) throws(FirmwareError) -> SEVGuestArea? {
        guard let entry = footer.entry(guid) else { return nil }
        guard let gpa = entry.data.readLE(UInt32.self, at: 0), let size = entry.data.readLE(UInt32.self, at: 4) else {
            throw .entryDataTooShort(structure: structure, length: entry.data.count, needed: 8)
        }
        return SEVGuestArea(gpa: gpa, size: size)
    }
}
