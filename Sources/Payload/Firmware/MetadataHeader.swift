/// The 16-byte header SEV ("ASEV") and TDX ("TDVF") metadata share: u8[4] signature,
/// u32 length, u32 version (1), u32 section count. Both are located the same way: a footer
/// entry holds a u32 offset from the end of the image.
struct MetadataHeader {
    static let size = 16
    /// The most sections a table may declare. OVMF's tables carry fewer than ten and ours at
    /// most about 160 (they fit in the 0x7E0-byte area `FirmwareTables` fills); 4096 is far
    /// above any real table and bounds what a hostile one costs before anything is hashed: the
    /// table read (128 KiB at most), the checks, and the report, whose JSON grows by about 1 KiB
    /// of memory per section and population step.
    static let maximumSections: UInt32 = 4096

    /// File offset of the signature.
    let start: Int
    let length: UInt32
    let count: UInt32

    /// Reads the header `guid`'s footer entry points at; nil when the entry is absent.
    static func read(
        _ image: FirmwareContents, footer: FooterTable, guid: FirmwareGUID, signature expected: String,
        structure: FirmwareStructure
    ) throws(FirmwareError) -> MetadataHeader? {
        guard let entry = footer.entry(guid) else { return nil }
        guard let fromEnd = entry.data.readLE(UInt32.self, at: 0) else {
            throw .entryDataTooShort(structure: structure, length: entry.data.count, needed: 4)
        }
        guard fromEnd != 0, Int(fromEnd) <= image.count else {
            throw .metadataOffsetOutsideFile(structure: structure, offsetFromEnd: fromEnd, fileSize: image.count)
        }
        let start = image.count - Int(fromEnd)
        guard let header = try image.bytes(at: start, count: size),
            let length = header.readLE(UInt32.self, at: 4),
            let version = header.readLE(UInt32.self, at: 8),
            let count = header.readLE(UInt32.self, at: 12)
        else { throw .metadataPastFile(structure: structure, at: start, length: UInt64(size), fileSize: image.count) }
        let signature = Array(header[0..<4])
        guard signature == Array(expected.utf8) else {
            throw .badSignature(structure: structure, found: signature, expected: expected, at: start)
        }
        guard version == 1 else { throw .unsupportedVersion(structure: structure, version: version) }
        return MetadataHeader(start: start, length: length, count: count)
    }

    /// The bytes of the `count` sections of `sectionSize` after the header, once they are
    /// checked to fit in the declared length (exactly, when `exact`) and in the file, and to be
    /// no more than `maximumSections`.
    func sectionBytes(
        _ image: FirmwareContents, sectionSize: Int, exact: Bool,
        structure: FirmwareStructure
    ) throws(FirmwareError) -> [UInt8] {
        let needed = UInt64(Self.size) + UInt64(count) * UInt64(sectionSize)
        guard exact ? UInt64(length) == needed : UInt64(length) >= needed else {
            throw .metadataLengthMismatch(structure: structure, length: length, expected: needed)
        }
        guard UInt64(start) + UInt64(length) <= UInt64(image.count) else {
            throw .metadataPastFile(structure: structure, at: start, length: UInt64(length), fileSize: image.count)
        }
        guard count <= Self.maximumSections else {
            throw .tooManySections(structure: structure, count: count, limit: Self.maximumSections)
        }
        guard let bytes = try image.bytes(at: start + Self.size, count: Int(count) * sectionSize) else {
            throw .metadataPastFile(structure: structure, at: start, length: needed, fileSize: image.count)
        }
        return bytes
    }
}
