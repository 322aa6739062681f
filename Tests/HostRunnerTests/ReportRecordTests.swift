@testable import HostRunner
import XCTest

final class ReportRecordTests: XCTestCase {
    /// Builds a record exactly as docs/report-protocol.md lays it out.
    private func record(type: UInt8, a: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0, d: UInt64 = 0, name: String = "", total: UInt16? = nil, magic: UInt32 = 0x524C_4E45) -> [UInt8] {
        let nameBytes = Array(name.utf8)
        var bytes: [UInt8] = []
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        put(magic)
        bytes.append(type)
        bytes.append(UInt8(nameBytes.count))
        put(total ?? UInt16(40 + nameBytes.count))
        put(a); put(b); put(c); put(d)
        return bytes + nameBytes
    }

    private func decode(_ bytes: [UInt8]) -> Result<ReportRecord, ReportRecordError> {
        bytes.withUnsafeBytes { ReportRecord.decode($0) }
    }

    func testDecodesEveryType() {
        XCTAssertEqual(try decode(record(type: 1, a: 7, b: 8, c: 0, name: "x")).get(), .check(name: "x", actual: 7, expected: 8, passed: false))
        XCTAssertEqual(try decode(record(type: 2, a: 0x1000, b: 0x2000, c: 0xDEAD_BEEF, name: "p")).get(), .checksum(name: "p", gpa: 0x1000, length: 0x2000, crc: 0xDEAD_BEEF))
        XCTAssertEqual(try decode(record(type: 3, a: 42, name: "v")).get(), .value(name: "v", value: 42))
        XCTAssertEqual(try decode(record(type: 4, a: 14, b: 2, c: 0x1234, d: 0x5000)).get(), .exception(vector: 14, errorCode: 2, rip: 0x1234, cr2: 0x5000))
        XCTAssertEqual(try decode(record(type: 5, name: "hello world")).get(), .log("hello world"))
    }

    func testRejectsMalformedRecords() {
        XCTAssertEqual(decode(record(type: 3, magic: 0x1234)), .failure(.badMagic(0x1234)))
        XCTAssertEqual(decode(record(type: 9)), .failure(.unknownType(9)))
        XCTAssertEqual(decode(record(type: 3, name: "ab", total: 41)), .failure(.lengthMismatch(total: 41, nameLength: 2)))
        XCTAssertEqual(decode(Array(record(type: 3).prefix(20))), .failure(.truncated(20)))
        XCTAssertEqual(decode(Array(record(type: 3, name: "abcdef").prefix(43))), .failure(.truncated(43)))
        var notUTF8 = record(type: 3, name: "ab")
        notUTF8[40] = 0xFF
        XCTAssertEqual(decode(notUTF8), .failure(.nameNotUTF8))
        XCTAssertEqual(decode(record(type: 1, c: 2)), .failure(.badField("CHECK outcome 2, expected 0 or 1")))
    }

    func testCRC32CStandardVectors() {
        // The check value of CRC-32C (RFC 3720 B.4 and the CRC catalogue): "123456789" → 0xE3069283.
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([]), 0)
    }
}
