import GuestPhysical

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
        guard
            let header = try MetadataHeader.read(
                image, footer: footer, guid: KnownFirmwareGUID.sevMetadataOffset,
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

    /// Problems that do not stop the table from being read but stop the SNP digest from being
    /// computed: per section the first of an unknown type, misalignment, a range past 4 GiB,
    /// size 0 (KVM's SNP_LAUNCH_UPDATE refuses an empty range, arch/x86/kvm/svm/sev.c
    /// `snp_launch_update`) or a range over the image at `image` (which the VMM has already
    /// added); then the first two sections that overlap. A page can be added to an SNP guest
    /// once: a second SNP_LAUNCH_UPDATE of it fails (`sev_gmem_post_populate` finds its RMP
    /// entry assigned, and guest_memfd's `kvm_gmem_populate` refuses a prepared folio,
    /// -EEXIST). QEMU's `snp_populate_metadata_pages` (target/i386/sev.c) passes the sections
    /// to KVM as they are, so the launch would fail there; we refuse them here. The checks also
    /// bound the digest: non-overlapping sections below 4 GiB add at most 2^20 pages.
    public func sectionProblems(image: GPARange) -> [FirmwareError] {
        var problems: [FirmwareError] = sections.enumerated().compactMap { index, section in
            if case .unknown(let raw) = section.type { return .unknownSEVSectionType(index: index, type: raw) }
            if section.gpa % 4096 != 0 || section.size % 4096 != 0 {
                return .sevSectionMisaligned(index: index, gpa: section.gpa, size: section.size)
            }
            if UInt64(section.gpa) + UInt64(section.size) > FirmwareImage.fourGiB {
                return .sevSectionPastFourGiB(index: index, gpa: section.gpa, size: section.size)
            }
            if section.size == 0 { return .sevSectionEmpty(index: index, gpa: section.gpa, type: section.type.description) }
            if section.range.overlaps(image) {
                return .sevSectionOverlapsImage(index: index, gpa: section.gpa, size: section.size, imageBase: image.start)
            }
            return nil
        }
        let ranges = sections.enumerated().map { ($0.offset, $0.element.range) }
        if let (first, second) = FirstOverlap.find(in: ranges) {
            let (a, b) = (sections[first], sections[second])
            problems.append(.sevSectionsOverlap(index: second, gpa: b.gpa, size: b.size, other: first, otherGPA: a.gpa, otherSize: a.size))
        }
        return problems
    }
}

extension SEVSection {
    /// The guest-physical range the section names.
    public var range: GPARange { GPARange(start: UInt64(gpa), exactByteCount: UInt64(size)) }
}
