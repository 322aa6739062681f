/// One record of the report channel (docs/report-protocol.md), decoded from guest memory.
public enum ReportRecord: Sendable, Equatable {
    case check(name: String, actual: UInt64, expected: UInt64, passed: Bool)
    case checksum(name: String, gpa: UInt64, length: UInt64, crc: UInt32)
    case value(name: String, value: UInt64)
    case exception(vector: UInt64, errorCode: UInt64, rip: UInt64, cr2: UInt64)
    case log(String)

    public static let magic: UInt32 = 0x524C_4E45
    public static let headerSize = 40
    public static let maximumSize = headerSize + 255

    /// Decodes a record whose bytes the caller read from guest memory. `bytes` may be longer
    /// than the record (the host reads the maximum size once); the header says how much counts.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<ReportRecord, ReportRecordError> {
        guard bytes.count >= headerSize else { return .failure(.truncated(bytes.count)) }
        // SAFETY: every load below lies inside the header, and bytes.count >= headerSize (checked).
        let magic = bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
        guard magic == Self.magic else { return .failure(.badMagic(magic)) }
        let type = bytes[4]
        let nameLength = Int(bytes[5])
        let total = Int(bytes.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
        guard total == headerSize + nameLength else { return .failure(.lengthMismatch(total: total, nameLength: nameLength)) }
        guard bytes.count >= total else { return .failure(.truncated(bytes.count)) }
        let a = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let b = bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        let c = bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        let d = bytes.loadUnaligned(fromByteOffset: 32, as: UInt64.self)
        guard let name = String(validating: bytes[headerSize..<total], as: UTF8.self) else { return .failure(.nameNotUTF8) }
        switch type {
        case 1:
            guard c <= 1 else { return .failure(.badField("CHECK outcome \(c), expected 0 or 1")) }
            return .success(.check(name: name, actual: a, expected: b, passed: c == 1))
        case 2:
            guard c <= UInt64(UInt32.max) else { return .failure(.badField("CHECKSUM crc \(c) wider than 32 bits")) }
            return .success(.checksum(name: name, gpa: a, length: b, crc: UInt32(c)))
        case 3: return .success(.value(name: name, value: a))
        case 4: return .success(.exception(vector: a, errorCode: b, rip: c, cr2: d))
        case 5: return .success(.log(name))
        default: return .failure(.unknownType(type))
        }
    }
}

public enum ReportRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    case outsideMemory
    case truncated(Int)
    case badMagic(UInt32)
    case lengthMismatch(total: Int, nameLength: Int)
    case nameNotUTF8
    case unknownType(UInt8)
    case badField(String)

    public var description: String {
        switch self {
        case .outsideMemory: "the record does not lie inside guest RAM"
        case .truncated(let count): "only \(count) bytes readable, a record needs at least \(ReportRecord.headerSize)"
        case .badMagic(let magic): "bad magic 0x\(String(magic, radix: 16)) (expected 0x524c4e45, \"ENLR\")"
        case .lengthMismatch(let total, let nameLength):
            "totalLength \(total) disagrees with nameLength \(nameLength) (expected \(ReportRecord.headerSize + nameLength))"
        case .nameNotUTF8: "the name is not UTF-8"
        case .unknownType(let type): "unknown record type \(type)"
        case .badField(let what): what
        }
    }
}
