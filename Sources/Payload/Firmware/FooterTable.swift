/// One entry of the reset-vector GUID table: `data`, then a u16 length (data + 18), then the GUID.
public struct FooterEntry: Equatable, Sendable {
    public let guid: FirmwareGUID
    /// The entry's data bytes (without the length and GUID).
    public let data: [UInt8]
    /// File offset of the first data byte.
    public let dataOffset: Int

    /// Our name for the GUID, or "unknown".
    public var name: String { KnownFirmwareGUID.name(of: guid) ?? "unknown" }
}

/// The GUID table OVMF-style firmware keeps just below the AP entry: its footer GUID sits at
/// 4 GiB - 48 (file end - 48), preceded by the u16 length of the whole table. Entries are read
/// backwards from the footer because each one's length sits at its end.
public struct FooterTable: Equatable, Sendable {
    /// Size of an entry's trailer (u16 length + GUID) and of the footer entry itself.
    public static let entryHeaderSize = 18
    /// Bytes between the end of the table and the end of the image (AP entry + reset vector).
    public static let bytesAfterTable = 32

    /// Entries in table order as read from the footer backwards (the one nearest the footer first).
    public let entries: [FooterEntry]
    /// File offset of the first byte of the table and of the footer entry.
    public let tableOffset: Int
    public let footerOffset: Int

    /// The data of the first entry with `guid`, if any.
    public func entry(_ guid: FirmwareGUID) -> FooterEntry? {
        entries.first { $0.guid == guid }
    }

    /// Parses the table at the end of `image` (the last byte of the image is at 4 GiB - 1).
    public static func parse(_ image: [UInt8]) throws(FirmwareError) -> FooterTable {
        try parse(FirmwareContents(image))
    }

    /// Parses the table at the end of `contents`, reading only the footer and the table (its
    /// u16 length bounds it to 64 KiB).
    public static func parse(_ contents: FirmwareContents) throws(FirmwareError) -> FooterTable {
        let size = contents.count
        let footerOffset = size - bytesAfterTable - entryHeaderSize
        guard footerOffset >= 0, let footer = try contents.bytes(at: footerOffset, count: entryHeaderSize),
            let footerLength = footer.readLE(UInt16.self, at: 0),
            let footerGUID = FirmwareGUID(bytes: Array(footer[2..<entryHeaderSize]))
        else { throw .imageTooSmall(size: size, needed: bytesAfterTable + entryHeaderSize) }
        guard footerGUID == KnownFirmwareGUID.footer else {
            throw .noFooterTable(found: footerGUID, at: footerOffset + 2)
        }
        let length = Int(footerLength)
        guard length >= entryHeaderSize else { throw .footerLengthTooSmall(length: length, at: footerOffset) }
        let bodyLength = length - entryHeaderSize
        guard bodyLength <= footerOffset else {
            throw .footerLengthPastImage(length: length, available: footerOffset)
        }
        let tableOffset = footerOffset - bodyLength
        // The table's bytes; `local` turns a file offset into an index of them.
        let table = try contents.bytes(at: tableOffset, count: bodyLength) ?? []
        func local(_ fileOffset: Int) -> Int { fileOffset - tableOffset }

        var entries: [FooterEntry] = []
        var end = footerOffset // exclusive end of the part not yet read
        while end - tableOffset >= entryHeaderSize {
            let trailer = end - entryHeaderSize
            guard let entryLength = table.readLE(UInt16.self, at: local(trailer)),
                let guidBytes = table.bytes(at: local(trailer) + 2, count: 16),
                let guid = FirmwareGUID(bytes: guidBytes)
            else { break } // unreachable: the loop condition keeps the trailer inside the table
            let size = Int(entryLength)
            guard size >= entryHeaderSize else {
                throw .entryLengthTooSmall(index: entries.count, guid: guid, length: size, at: trailer)
            }
            guard size <= end - tableOffset else {
                throw .entryLengthPastTable(
                    index: entries.count, guid: guid, length: size,
                    remaining: end - tableOffset, at: trailer)
            }
            let dataOffset = end - size
            let data = table.bytes(at: local(dataOffset), count: size - entryHeaderSize) ?? []
            entries.append(FooterEntry(guid: guid, data: data, dataOffset: dataOffset))
            end = dataOffset
        }
        // edk2 pads before the table, not inside it, so leftover bytes mean the lengths are wrong.
        if end != tableOffset { throw .footerLeftoverBytes(count: end - tableOffset, at: tableOffset) }
        return FooterTable(entries: entries, tableOffset: tableOffset, footerOffset: footerOffset)
    }
}
