import GuestPhysical

/// The structure of a firmware image an error is about, so callers can say which digest a
/// problem prevents (a broken TDX table does not stop the SNP digest, and vice versa).
public enum FirmwareStructure: String, Sendable, Codable {
    case image, footer, sevMetadata, tdxMetadata, sevESResetBlock, sevHashTableBlock, sevSecretBlock
}

/// Everything that can be wrong with a firmware image's tables. Offsets are file offsets.
public enum FirmwareError: Error, Equatable, Sendable, CustomStringConvertible {
    case imageTooSmall(size: Int, needed: Int)
    case imageSizeNotPageMultiple(size: Int)
    case noFooterTable(found: FirmwareGUID, at: Int)
    case footerLengthTooSmall(length: Int, at: Int)
    case footerLengthPastImage(length: Int, available: Int)
    case entryLengthTooSmall(index: Int, guid: FirmwareGUID, length: Int, at: Int)
    case entryLengthPastTable(index: Int, guid: FirmwareGUID, length: Int, remaining: Int, at: Int)
    case footerLeftoverBytes(count: Int, at: Int)
    case entryDataTooShort(structure: FirmwareStructure, length: Int, needed: Int)
    case metadataOffsetOutsideFile(structure: FirmwareStructure, offsetFromEnd: UInt32, fileSize: Int)
    case badSignature(structure: FirmwareStructure, found: [UInt8], expected: String, at: Int)
    case unsupportedVersion(structure: FirmwareStructure, version: UInt32)
    case metadataLengthMismatch(structure: FirmwareStructure, length: UInt32, expected: UInt64)
    case metadataPastFile(structure: FirmwareStructure, at: Int, length: UInt64, fileSize: Int)
    case unknownSEVSectionType(index: Int, type: UInt32)
    case sevSectionMisaligned(index: Int, gpa: UInt32, size: UInt32)
    case sevSectionPastFourGiB(index: Int, gpa: UInt32, size: UInt32)
    case unknownTDXSectionType(index: Int, type: UInt32)
    case tdxSectionDataPastFile(index: Int, dataOffset: UInt32, rawSize: UInt32, fileSize: Int)
    case tdxSectionMisaligned(index: Int, memoryAddress: UInt64, memorySize: UInt64)
    case tdxSectionRawLargerThanMemory(index: Int, rawSize: UInt32, memorySize: UInt64)
    case tdxSectionRawDataMismatch(index: Int, type: String, rawSize: UInt32)
    case tdxSectionOutsideAddressSpace(index: Int, memoryAddress: UInt64, memorySize: UInt64)
    case tdxSectionTooLarge(index: Int, memorySize: UInt64, limit: UInt64)
    case tooManySections(structure: FirmwareStructure, count: UInt32, limit: UInt32)
    case sevSectionEmpty(index: Int, gpa: UInt32, type: String)
    case sevSectionOverlapsImage(index: Int, gpa: UInt32, size: UInt32, imageBase: UInt64)
    case sevSectionsOverlap(index: Int, gpa: UInt32, size: UInt32, other: Int, otherGPA: UInt32, otherSize: UInt32)
    case tdxSectionEmpty(index: Int, type: String)
    case tdxSectionsOverlap(
        index: Int, memoryAddress: UInt64, memorySize: UInt64,
        other: Int, otherAddress: UInt64, otherSize: UInt64)
    case tdxPrelaunchTotalTooLarge(index: Int, total: UInt64, limit: UInt64)
    case tdxExtendedTotalTooLarge(index: Int, total: UInt64, imageSize: Int)
    /// The file could not be read at `at` (an I/O error, or it shrank after it was opened).
    case unreadable(path: String, at: UInt64, reason: String)

    /// The structure this error is about.
    public var structure: FirmwareStructure {
        switch self {
        case .imageTooSmall, .imageSizeNotPageMultiple, .unreadable: return .image
        case .noFooterTable, .footerLengthTooSmall, .footerLengthPastImage,
            .entryLengthTooSmall, .entryLengthPastTable, .footerLeftoverBytes:
            return .footer
        case .entryDataTooShort(let structure, _, _),
            .metadataOffsetOutsideFile(let structure, _, _),
            .badSignature(let structure, _, _, _),
            .unsupportedVersion(let structure, _),
            .metadataLengthMismatch(let structure, _, _),
            .metadataPastFile(let structure, _, _, _),
            .tooManySections(let structure, _, _):
            return structure
        case .unknownSEVSectionType, .sevSectionMisaligned, .sevSectionPastFourGiB, .sevSectionEmpty,
            .sevSectionOverlapsImage, .sevSectionsOverlap:
            return .sevMetadata
        case .unknownTDXSectionType, .tdxSectionDataPastFile, .tdxSectionMisaligned,
            .tdxSectionRawLargerThanMemory, .tdxSectionRawDataMismatch,
            .tdxSectionOutsideAddressSpace, .tdxSectionTooLarge, .tdxSectionEmpty, .tdxSectionsOverlap,
            .tdxPrelaunchTotalTooLarge, .tdxExtendedTotalTooLarge:
            return .tdxMetadata
        }
    }

    public var description: String {
        switch self {
        case .imageTooSmall(let size, let needed):
            return "image is \(size) bytes; the reset-vector footer needs at least \(needed)"
        case .imageSizeNotPageMultiple(let size):
            return "image size \(hex(size)) is not a multiple of 4 KiB, so it cannot be mapped page by page below 4 GiB"
        case .noFooterTable(let found, let at):
            return "no footer GUID table: the GUID at file offset \(hex(at)) is \(found), not \(KnownFirmwareGUID.footer)"
        case .footerLengthTooSmall(let length, let at):
            return "footer table length \(length) at file offset \(hex(at)) is smaller than the 18-byte footer entry itself"
        case .footerLengthPastImage(let length, let available):
            return "footer table length \(length) runs past the start of the image (only \(available) bytes precede the footer)"
        case .entryLengthTooSmall(let index, let guid, let length, let at):
            return "footer entry \(index) (\(guid)) at file offset \(hex(at)) has length \(length), less than its 18-byte header"
        case .entryLengthPastTable(let index, let guid, let length, let remaining, let at):
            return "footer entry \(index) (\(guid)) at file offset \(hex(at)) has length \(length) but only \(remaining) bytes of the table remain"
        case .footerLeftoverBytes(let count, let at):
            return "footer table entries leave \(count) bytes at file offset \(hex(at)) that form no entry: the lengths do not add up to the table length"
        case .entryDataTooShort(let structure, let length, let needed):
            return "\(structure.rawValue) footer entry carries \(length) data bytes; \(needed) are needed"
        case .metadataOffsetOutsideFile(let structure, let offset, let size):
            return "\(structure.rawValue) offset \(hex(offset)) from the end of the image lies outside the \(hex(size))-byte file"
        case .badSignature(let structure, let found, let expected, let at):
            let text = String(decoding: found.map { (0x20...0x7e).contains($0) ? $0 : 0x3f }, as: UTF8.self)
            return "\(structure.rawValue) at file offset \(hex(at)) has signature \"\(text)\", expected \"\(expected)\""
        case .unsupportedVersion(let structure, let version):
            return "\(structure.rawValue) has version \(version); only version 1 is defined"
        case .metadataLengthMismatch(let structure, let length, let expected):
            return "\(structure.rawValue) declares length \(length) but its header and sections need \(expected)"
        case .metadataPastFile(let structure, let at, let length, let size):
            return "\(structure.rawValue) at file offset \(hex(at)) with length \(length) runs past the end of the \(hex(size))-byte file"
        case .unknownSEVSectionType(let index, let type):
            return "SEV metadata section \(index) has unknown type \(hex(type))"
        case .sevSectionMisaligned(let index, let gpa, let size):
            return "SEV metadata section \(index) (GPA \(hex(gpa)), size \(hex(size))) is not 4 KiB aligned"
        case .sevSectionPastFourGiB(let index, let gpa, let size):
            return "SEV metadata section \(index) (GPA \(hex(gpa)), size \(hex(size))) runs past 4 GiB"
        case .tdxSectionOutsideAddressSpace(let index, let address, let size):
            return "TDX metadata section \(index) (address \(hex(address)), size \(hex(size))) runs past the 52-bit guest-physical address space"
        case .tdxSectionTooLarge(let index, let size, let limit):
            return
                "TDX metadata section \(index) asks for \(hex(size)) bytes to be added before launch, more than the \(hex(limit)) we accept for pre-launch population"
        case .unknownTDXSectionType(let index, let type):
            return "TDX metadata section \(index) has unknown type \(type)"
        case .tdxSectionDataPastFile(let index, let offset, let size, let fileSize):
            return
                "TDX metadata section \(index) takes \(hex(size)) bytes at file offset \(hex(offset)), past the end of the \(hex(fileSize))-byte file (a code-only volume?)"
        case .tdxSectionMisaligned(let index, let address, let size):
            return "TDX metadata section \(index) (address \(hex(address)), size \(hex(size))) is not 4 KiB aligned"
        case .tdxSectionRawLargerThanMemory(let index, let raw, let memory):
            return "TDX metadata section \(index) has raw size \(hex(raw)) larger than its memory size \(hex(memory))"
        case .tooManySections(let structure, let count, let limit):
            return "\(structure.rawValue) declares \(count) sections, more than the \(limit) we read (real tables carry a handful)"
        case .sevSectionEmpty(let index, let gpa, let type):
            return "SEV metadata section \(index) (\(type), GPA \(hex(gpa))) has size 0: KVM refuses an empty SNP_LAUNCH_UPDATE"
        case .sevSectionOverlapsImage(let index, let gpa, let size, let base):
            return
                "SEV metadata section \(index) (GPA \(hex(gpa)), size \(hex(size))) overlaps the image at \(hex(base))..0xffffffff: a VMM cannot add those pages twice"
        case .sevSectionsOverlap(let index, let gpa, let size, let other, let otherGPA, let otherSize):
            return
                "SEV metadata section \(index) (GPA \(hex(gpa)), size \(hex(size))) overlaps section \(other) (GPA \(hex(otherGPA)), size \(hex(otherSize))): a VMM cannot add a page twice"
        case .tdxSectionEmpty(let index, let type):
            return "TDX metadata section \(index) (\(type)) has memory size 0: KVM refuses to add an empty region"
        case .tdxSectionsOverlap(let index, let address, let size, let other, let otherAddress, let otherSize):
            return
                "TDX metadata section \(index) (address \(hex(address)), size \(hex(size))) overlaps section \(other) (address \(hex(otherAddress)), size \(hex(otherSize))): a VMM cannot add a page twice before launch"
        case .tdxPrelaunchTotalTooLarge(let index, let total, let limit):
            return
                "TDX metadata section \(index) brings the memory added before launch to \(hex(total)) bytes, more than the \(hex(limit)) (4 GiB) we accept for a whole image"
        case .tdxExtendedTotalTooLarge(let index, let total, let imageSize):
            return
                "TDX metadata section \(index) brings the memory extended into MRTD to \(hex(total)) bytes, more than the \(hex(imageSize))-byte image holds: MR.EXTEND measures image bytes"
        case .unreadable(let path, let at, let reason):
            return "cannot read \(path) at file offset \(hex(at)): \(reason)"
        case .tdxSectionRawDataMismatch(let index, let type, let raw):
            return "TDX metadata section \(index) of type \(type) has raw size \(hex(raw)); that type must \(raw == 0 ? "carry" : "not carry") file data"
        }
    }
}
