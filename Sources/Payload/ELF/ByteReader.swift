/// Bounds-checked little-endian reads over a byte array.
///
/// Every read states what it was reading, so a truncated or hostile file yields an error
/// that says which field ran past the end instead of a trap.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var count: Int { bytes.count }

    /// Checks that `[offset, offset + length)` lies inside the buffer, without overflowing.
    public func contains(offset: UInt64, length: UInt64) -> Bool {
        let (end, overflow) = offset.addingReportingOverflow(length)
        return !overflow && end <= UInt64(bytes.count)
    }

    public func u8(_ offset: Int, _ field: String) throws(ByteReaderError) -> UInt8 {
        try check(offset, 1, field)
        return bytes[offset]
    }

    public func u16(_ offset: Int, _ field: String) throws(ByteReaderError) -> UInt16 {
        UInt16(truncatingIfNeeded: try little(offset, 2, field))
    }

    public func u32(_ offset: Int, _ field: String) throws(ByteReaderError) -> UInt32 {
        UInt32(truncatingIfNeeded: try little(offset, 4, field))
    }

    public func u64(_ offset: Int, _ field: String) throws(ByteReaderError) -> UInt64 {
        try little(offset, 8, field)
    }

    public func slice(_ offset: UInt64, _ length: UInt64, _ field: String) throws(ByteReaderError) -> ArraySlice<UInt8> {
        guard contains(offset: offset, length: length) else {
            throw ByteReaderError(field: field, offset: offset, length: length, available: bytes.count)
        }
        return bytes[Int(offset)..<Int(offset + length)]
    }

    /// A NUL-terminated string starting at `offset`, bounded by `limit` (exclusive).
    public func cString(_ offset: UInt64, limit: UInt64, _ field: String) throws(ByteReaderError) -> String {
        let end = min(limit, UInt64(bytes.count))
        guard offset < end else {
            throw ByteReaderError(field: field, offset: offset, length: 1, available: Int(end))
        }
        var index = Int(offset)
        while index < Int(end), bytes[index] != 0 { index += 1 }
        return String(decoding: bytes[Int(offset)..<index], as: UTF8.self)
    }

    private func check(_ offset: Int, _ length: Int, _ field: String) throws(ByteReaderError) {
        guard offset >= 0, contains(offset: UInt64(offset), length: UInt64(length)) else {
            throw ByteReaderError(field: field, offset: UInt64(max(offset, 0)), length: UInt64(length), available: bytes.count)
        }
    }

    private func little(_ offset: Int, _ length: Int, _ field: String) throws(ByteReaderError) -> UInt64 {
        try check(offset, length, field)
        var value: UInt64 = 0
        for index in (0..<length).reversed() {
            value = value << 8 | UInt64(bytes[offset + index])
        }
        return value
    }
}

public struct ByteReaderError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let offset: UInt64
    public let length: UInt64
    public let available: Int

    public var description: String {
        "\(field) at offset 0x\(String(offset, radix: 16)) (\(length) bytes) runs past the end of the data (\(available) bytes)"
    }
}
