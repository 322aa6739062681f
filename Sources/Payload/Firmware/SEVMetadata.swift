/// Section types of OVMF's SEV metadata (edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm).
public enum SEVSectionType: Equatable, Sendable, CustomStringConvertible {
    /// Zero pages the VMM pre-validates (SNP LAUNCH_UPDATE page type ZERO).
    case snpSecureMemory
    /// The SNP secrets page (page type SECRETS).
    case snpSecrets
    /// The CPUID page (page type CPUID).
    case cpuid
    /// The SVSM calling-area page, measured as a zero page.
    case svsmCallingArea
    /// The page QEMU fills with the kernel/initrd/cmdline hashes (or zero when none are given).
    case kernelHashes
    case unknown(UInt32)

    public init(rawValue: UInt32) {
        switch rawValue {
        case 1: self = .snpSecureMemory
        case 2: self = .snpSecrets
        case 3: self = .cpuid
        case 4: self = .svsmCallingArea
        case 0x10: self = .kernelHashes
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: UInt32 {
        switch self {
        case .snpSecureMemory: return 1
        case .snpSecrets: return 2
        case .cpuid: return 3
        case .svsmCallingArea: return 4
        case .kernelHashes: return 0x10
        case .unknown(let value): return value
        }
    }

    public var description: String {
        switch self {
        case .snpSecureMemory: return "SNP_SEC_MEM"
        case .snpSecrets: return "SNP_SECRETS"
        case .cpuid: return "CPUID"
        case .svsmCallingArea: return "SVSM_CAA"
        case .kernelHashes: return "KERNEL_HASHES"
        case .unknown(let value): return "UNKNOWN(\(hex(value)))"
        }
    }
}

/// One 12-byte SEV metadata section: u32 GPA, u32 size, u32 type.
public struct SEVSection: Equatable, Sendable {
    public let gpa: UInt32
    public let size: UInt32
    public let type: SEVSectionType

    public init(gpa: UInt32, size: UInt32, type: SEVSectionType) {
        self.gpa = gpa
        self.size = size
        self.type = type
    }
}

/// The "ASEV" table: u8[4] signature, u32 length (header + sections), u32 version (1),
/// u32 section count, then the sections.
public struct SEVMetadata: Equatable, Sendable {
    public static let sectionSize = 12

    /// File offset of the "ASEV" signature.
    public let offset: Int
    public let sections: [SEVSection]

    /// Parses the table the `sevMetadataOffset` footer entry points at.
    public static func parse(_ image: FirmwareContents, footer: FooterTable) throws(FirmwareError) -> SEVMetadata? {
        guard let header = try MetadataHeader.read(image, footer: footer, guid: KnownFirmwareGUID.sevMetadataOffset,
                                                   signature: "ASEV", structure: .sevMetadata)
        else { return nil }
        // OVMF's length covers header and sections; we accept trailing bytes as sev-snp-measure does.
        let table = try header.sectionBytes(image, sectionSize: sectionSize, exact: false, structure: .sevMetadata)
        var sections: [SEVSection] = []
        sections.reserveCapacity(Int(header.count))
        for at in stride(from: 0, to: table.count, by: sectionSize) {
            guard let gpa = table.readLE(UInt32.self, at: at),
                  let size = table.readLE(UInt32.self, at: at + 4),
                  let type = table.readLE(UInt32.self, at: at + 8)
            else { break } // unreachable: the table holds whole sections
            sections.append(SEVSection(gpa: gpa, size: size, type: SEVSectionType(rawValue: type)))
        }
        return SEVMetadata(offset: header.start, sections: sections)
    }

    /// Problems that do not stop the table from being read but stop a digest from being computed.
    public var sectionProblems: [FirmwareError] {
        sections.enumerated().compactMap { index, section in
            if case .unknown(let raw) = section.type { return .unknownSEVSectionType(index: index, type: raw) }
            if section.gpa % 4096 != 0 || section.size % 4096 != 0 {
                return .sevSectionMisaligned(index: index, gpa: section.gpa, size: section.size)
            }
            if UInt64(section.gpa) + UInt64(section.size) > 0x1_0000_0000 {
                return .sevSectionPastFourGiB(index: index, gpa: section.gpa, size: section.size)
            }
            return nil
        }
    }
}
