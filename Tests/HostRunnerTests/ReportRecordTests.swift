import GuestPhysical
import Payload
import XCTest

@testable import HostRunner

final class ReportRecordTests: XCTestCase {
    /// Builds a record exactly as docs/report-protocol.md lays it out.
    private func record(
        type: UInt8, a: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0, d: UInt64 = 0, name: String = "", total: UInt16? = nil, magic: UInt32 = 0x524C_4E45
    ) -> [UInt8] {
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
        XCTAssertEqual(
            try decode(record(type: 2, a: 0x1000, b: 0x2000, c: 0xDEAD_BEEF, name: "p")).get(),
            .checksum(name: "p", gpa: 0x1000, length: 0x2000, crc: 0xDEAD_BEEF))
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

/// The host's side of a CHECKSUM: CRC32C over the plan's bytes, computed without building
/// the range, and only for ranges the plan populated.
final class PlannedChecksumTests: XCTestCase {
    func testZeroRunsMatchFeedingZeroBytes() {
        for count in [0, 1, 7, 64, 4096, (1 << 20) + 3] {
            let zeros = [UInt8](repeating: 0, count: count)
            let slow = zeros.withUnsafeBytes { CRC32C.update(0x1234_5678, $0) }
            XCTAssertEqual(CRC32C.updateZeros(0x1234_5678, count: UInt64(count)), slow, "\(count) zeros")
        }
        // The check value of CRC32C (RFC 3720 B.4): 32 zero bytes give 0x8A9136AA.
        XCTAssertEqual(CRC32C.finish(CRC32C.updateZeros(CRC32C.initial, count: 32)), 0x8A91_36AA)
    }

    func testOnlyPopulatedRangesHaveAPlannedChecksum() throws {
        // Image bytes at [0x100000, 0x101800); the plan measures 0x100000-0x102000 and zeroes
        // 0x102000-0x104000; 0x104000-0x106000 is planned shared (not populated).
        let bytes = (0..<0x1800).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let plan = PopulationPlan(ranges: [
            PlanRange(name: "image", range: GPARange(start: 0x100000, end: 0x102000), kind: .measured, state: .private),
            PlanRange(name: "zero", range: GPARange(start: 0x102000, end: 0x104000), kind: .zero, state: .private),
            PlanRange(name: "shared", range: GPARange(start: 0x104000, end: 0x106000), kind: .shared, state: .shared),
        ])
        let image = try Image(
            synthetic: "planned", layout: .direct64, entry: 0x100000, pageTableRoot: 0x100000,
            segments: [LoadSegment(address: 0x100000, bytes: bytes)], plan: plan)
        let population = Population(entries: [], image: image)
        // Across the end of the segment and into the zero range: the CRC of the bytes a loader
        // would have put there, built independently.
        // [0x100800, 0x103000): the last 0x1000 image bytes, then 0x1800 zeros.
        let expected = CRC32C.checksum(Array(bytes[0x800...]) + [UInt8](repeating: 0, count: 0x1800))
        XCTAssertEqual(population.plannedChecksum(gpa: 0x100800, length: 0x2800), expected)
        XCTAssertNotNil(population.plannedChecksum(gpa: 0x100000, length: 0x4000))
        for (gpa, length) in [(0x103000, 0x2000), (0x104000, 0x1000), (0x0, 0xC000_0000), (0xFFF00000, 0x100000), (0x100000, 0)] as [(UInt64, UInt64)] {
            XCTAssertNil(population.plannedChecksum(gpa: gpa, length: length), "[\(hex(gpa)), +\(hex(length)))")
        }
        XCTAssertNil(population.plannedChecksum(gpa: 0x100000, length: UInt64.max), "a range past 2^64")
    }
}
