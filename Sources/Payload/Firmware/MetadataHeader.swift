/// The 16-byte header SEV ("ASEV") and TDX ("TDVF") metadata share: u8[4] signature,
/// u32 length, u32 version (1), u32 section count. Both are located the same way: a footer
/// entry holds a u32 offset from the end of the image.
struct MetadataHeader {
    static let size = 16

    /// File offset of the signature.
    let start: Int
    let length: UInt32
    let count: UInt32

    /// Reads the header `guid`'s footer entry points at; nil when the entry is absent.
    static func read(_ image: [UInt8], footer: FooterTable, guid: FirmwareGUID, signature expected: String,
                     structure: FirmwareStructure) throws(FirmwareError) -> MetadataHeader? {
        guard let entry = footer.entry(guid) else { return nil }
        guard let fromEnd = entry.data.readLE(UInt32.self, at: 0) else {
            throw .entryDataTooShort(structure: structure, length: entry.data.count, needed: 4)
        }
        guard fromEnd != 0, Int(fromEnd) <= image.count else {
            throw .metadataOffsetOutsideFile(structure: structure, offsetFromEnd: fromEnd, fileSize: image.count)
        }
        let start = image.count - Int(fromEnd)
        guard let signature = image.bytes(at: start, count: 4),
              let length = image.readLE(UInt32.self, at: start + 4),
              let version = image.readLE(UInt32.self, at: start + 8),
              let count = image.readLE(UInt32.self, at: start + 12)
        else { throw .metadataPastFile(structure: structure, at: start, length: UInt64(size), fileSize: image.count) }
        guard signature == Array(expected.utf8) else {
            throw .badSignature(structure: structure, found: signature, expected: expected, at: start)
        }
        guard version == 1 else { throw .unsupportedVersion(structure: structure, version: version) }
        return MetadataHeader(start: start, length: length, count: count)
    }

    /// Checks that `count` sections of `sectionSize` fit in the declared length (exactly, when
    /// `exact`) and in the file; returns the number of bytes the header and sections take.
    func checkExtent(sectionSize: Int, exact: Bool, fileSize: Int, structure: FirmwareStructure) throws(FirmwareError) -> UInt64 {
        let needed = UInt64(Self.size) + UInt64(count) * UInt64(sectionSize)
        guard exact ? UInt64(length) == needed : UInt64(length) >= needed else {
            throw .metadataLengthMismatch(structure: structure, length: length, expected: needed)
        }
        guard UInt64(start) + UInt64(length) <= UInt64(fileSize) else {
            throw .metadataPastFile(structure: structure, at: start, length: UInt64(length), fileSize: fileSize)
        }
        return needed
    }
}
