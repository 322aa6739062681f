import Foundation

/// Hand-assembles firmware images for parser tests, byte by byte as edk2's ResetVectorVtf0.asm
/// lays them out (entry data, u16 length, GUID; footer last, 32 bytes before the end), without
/// going through the code under test.
public struct FirmwareTestImage {
    public var bytes: [UInt8]

    public init(size: Int = 0x1_0000) { bytes = [UInt8](repeating: 0, count: size) }

    public static func guid(_ text: String) -> [UInt8] {
        // Mixed-endian: the first three groups are stored byte-reversed.
        let hex = text.replacingOccurrences(of: "-", with: "")
        var raw: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            raw.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return Array(raw[0..<4].reversed()) + Array(raw[4..<6].reversed()) + Array(raw[6..<8].reversed()) + Array(raw[8...])
    }

    public static func le16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF)] }
    public static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    public static func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    public static let footerGUID = "96b582de-1fb2-45f7-baea-a366c55a082d"
    public static let sevMetadataGUID = "dc886566-984a-4798-a75e-5585a7bf67cc"
    public static let tdxMetadataGUID = "e47a6535-984a-4798-865e-4685a7bf8ec2"
    public static let resetBlockGUID = "00f771de-1a7e-4fcb-890e-68c77e2fb44e"

    /// Writes a GUID table ending 32 bytes before the end; `footerLength` overrides the length.
    public mutating func writeTable(_ entries: [(String, [UInt8])], footerLength: Int? = nil) {
        var table: [UInt8] = []
        for (guid, data) in entries { table += data + Self.le16(data.count + 18) + Self.guid(guid) }
        table += Self.le16(footerLength ?? table.count + 18) + Self.guid(Self.footerGUID)
        put(table, at: bytes.count - 32 - table.count)
    }

    public mutating func put(_ data: [UInt8], at offset: Int) {
        bytes.replaceSubrange(offset..<(offset + data.count), with: data)
    }

    /// An "ASEV" table at `offset` with (gpa, size, type) sections.
    public static func sev(_ sections: [(UInt32, UInt32, UInt32)], length: UInt32? = nil, version: UInt32 = 1) -> [UInt8] {
        var out = Array("ASEV".utf8) + le32(length ?? UInt32(16 + 12 * sections.count)) + le32(version) + le32(UInt32(sections.count))
        for (gpa, size, type) in sections { out += le32(gpa) + le32(size) + le32(type) }
        return out
    }

    /// A "TDVF" descriptor with (dataOffset, rawSize, address, size, type, attributes) sections.
    public static func tdvf(_ sections: [(UInt32, UInt32, UInt64, UInt64, UInt32, UInt32)], length: UInt32? = nil) -> [UInt8] {
        var out = Array("TDVF".utf8) + le32(length ?? UInt32(16 + 32 * sections.count)) + le32(1) + le32(UInt32(sections.count))
        for (offset, raw, address, size, type, attributes) in sections {
            out += le32(offset) + le32(raw) + le64(address) + le64(size) + le32(type) + le32(attributes)
        }
        return out
    }
}
