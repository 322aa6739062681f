import Payload
import TestSupport
import XCTest

final class ELFReaderTests: XCTestCase {
    func testReadsALinkedImage() throws {
        let image = try BuiltImages.hello()
        let file = try ELFFile(bytes: image.elf)
        XCTAssertEqual(file.type, .executable)
        XCTAssertEqual(file.entry, image.entry)
        XCTAssertFalse(file.segments.filter(\.isLoadable).isEmpty)
        XCTAssertNotNil(file.section(named: ".enlighten.plan"))
        XCTAssertTrue(file.symbols.contains { $0.name == "main" && $0.isGlobal })
        // direct64 links at 1 MiB.
        XCTAssertEqual(image.segments.first?.address, 0x10_0000)
    }

    func testRejectsBadMagicAndTruncation() throws {
        let bytes = try BuiltImages.hello().elf
        var badMagic = bytes
        badMagic[1] = 0x46
        XCTAssertThrowsError(try ELFFile(bytes: badMagic)) { XCTAssertEqual($0 as? ELFError, .badMagic) }
        XCTAssertThrowsError(try ELFFile(bytes: Array(bytes.prefix(40)))) { XCTAssertEqual($0 as? ELFError, .truncated(40)) }
        XCTAssertThrowsError(try ELFFile(bytes: Array(bytes.prefix(bytes.count / 2))))
    }

    func testRejectsOffsetsPastTheEnd() throws {
        var bytes = try BuiltImages.hello().elf
        // e_phoff at offset 32: point the program headers past the end.
        let past = UInt64(bytes.count)
        for index in 0..<8 { bytes[32 + index] = UInt8(truncatingIfNeeded: past >> (8 * UInt64(index))) }
        XCTAssertThrowsError(try ELFFile(bytes: bytes)) { error in
            XCTAssertTrue("\(error)".contains("program header table"), "\(error)")
        }
    }

    func testRejectsOverlappingSections() throws {
        let bytes = try BuiltImages.hello().elf
        let file = try ELFFile(bytes: bytes)
        let withData = file.sections.filter { !$0.isNoBits && $0.type != 0 && $0.size > 0 }.sorted { $0.offset < $1.offset }
        let (first, second) = (withData[0], withData[1])
        var mutated = bytes
        let shoff = Int(try ByteReader(bytes).u64(40, "e_shoff"))
        // Move the second section's file offset into the first one.
        let field = shoff + second.index * 64 + 24
        for index in 0..<8 { mutated[field + index] = UInt8(truncatingIfNeeded: first.offset >> (8 * UInt64(index))) }
        XCTAssertThrowsError(try ELFFile(bytes: mutated)) { error in
            XCTAssertTrue("\(error)".contains("overlap"), "\(error)")
        }
    }

    /// 10,000 random mutations of a real image: each parses or fails with an error, none traps.
    func testSurvivesRandomMutations() throws {
        let original = try BuiltImages.hello().elf
        var generator = SplitMix64.fresh(for: name)
        var parsed = 0, rejected = 0
        for round in 0..<10_000 {
            var bytes = original
            let mutations = 1 + Int(generator.next() % 8)
            for _ in 0..<mutations {
                // Bias toward the headers, where a mutation changes structure rather than code.
                let inHeaders = generator.next() % 2 == 0
                let limit = inHeaders ? min(bytes.count, 0x200) : bytes.count
                let offset = Int(generator.next() % UInt64(limit))
                switch generator.next() % 4 {
                case 0: bytes[offset] = UInt8(truncatingIfNeeded: generator.next())
                case 1: bytes[offset] ^= 1 << UInt8(generator.next() % 8)
                case 2: bytes[offset] = 0xFF
                default: bytes = Array(bytes.prefix(max(0, offset)))
                }
                if bytes.isEmpty { break }
            }
            // The section header table sits at the end of lld's output: also mutate it.
            if round % 3 == 0, bytes.count > 64 {
                let offset = bytes.count - 1 - Int(generator.next() % UInt64(min(bytes.count - 1, 0x400)))
                bytes[offset] = UInt8(truncatingIfNeeded: generator.next())
            }
            do {
                _ = try Image(name: "mutant", elf: bytes)
                parsed += 1
            } catch {
                XCTAssertFalse("\(error)".isEmpty)
                rejected += 1
            }
        }
        XCTAssertEqual(parsed + rejected, 10_000)
        XCTAssertGreaterThan(rejected, 1000, "mutations that break structure must be rejected")
    }
}
