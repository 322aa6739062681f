import Measurement
import Payload
import XCTest

/// MRTD records and chunking, against vectors computed independently with Python's hashlib over
/// records assembled by hand from the TDX module specification (128-byte records, 256-byte
/// MR.EXTEND chunks).
final class MRTDTests: XCTestCase {
    func testRecordLayout() {
        let add = TDXMeasurement.record("MEM.PAGE.ADD", gpa: 0xFFE2_0000)
        XCTAssertEqual(add.count, 128)
        XCTAssertEqual(Array(add[0..<12]), Array("MEM.PAGE.ADD".utf8))
        XCTAssertEqual(Array(add[12..<16]), [0, 0, 0, 0])
        XCTAssertEqual(Array(add[16..<24]), [0x00, 0x00, 0xE2, 0xFF, 0, 0, 0, 0])
        XCTAssertEqual(Array(add[24...]), [UInt8](repeating: 0, count: 104))
        let extend = TDXMeasurement.record("MR.EXTEND", gpa: 0x100)
        XCTAssertEqual(Array(extend[0..<9]), Array("MR.EXTEND".utf8))
        XCTAssertEqual(Array(extend[9..<16]), [UInt8](repeating: 0, count: 7))
        XCTAssertEqual(Array(extend[16..<18]), [0x00, 0x01])
    }

    /// A 2-page MR.EXTEND section whose file data covers 1.5 pages (the rest extends as zero),
    /// then a 1-page TEMP_MEM section that is only added.
    private func sections() -> ([TDXSection], [UInt8]) {
        let image = (0..<8192).map { UInt8(truncatingIfNeeded: $0) }
        return (
            [
                TDXSection(
                    dataOffset: 0, rawSize: 0x1800, memoryAddress: 0x1000, memorySize: 0x2000,
                    type: .bfv, attributes: .mrExtend),
                TDXSection(
                    dataOffset: 0, rawSize: 0, memoryAddress: 0x9000, memorySize: 0x1000,
                    type: .tempMem, attributes: []),
            ], image
        )
    }

    func testInterleavedOrder() throws {
        let (sections, image) = sections()
        XCTAssertEqual(
            ExternalTools.hex(try TDXMeasurement.mrtd(sections: sections, image: image, order: .interleaved)),
            "1872802939755f37444343e0c51cebdbb23c3e28b946870ab9044a64fb9cffc2296100e400aad0f49dec5bb552397ea7")
    }

    func testTwoPassOrder() throws {
        let (sections, image) = sections()
        XCTAssertEqual(
            ExternalTools.hex(try TDXMeasurement.mrtd(sections: sections, image: image, order: .twoPass)),
            "1a2b686ff4412b5df5e1dbe3dbbd473018a490ba58a3b304cb7ee857285e9680aacacff5710f362a4e592128ef2f5c7c")
    }

    func testPageAugSectionsAreNotAdded() throws {
        let (sections, image) = sections()
        let aug = TDXSection(
            dataOffset: 0, rawSize: 0, memoryAddress: 0x20_0000, memorySize: 0x10_0000,
            type: .tempMem, attributes: .pageAug)
        XCTAssertEqual(
            try TDXMeasurement.mrtd(sections: sections + [aug], image: image, order: .interleaved),
            try TDXMeasurement.mrtd(sections: sections, image: image, order: .interleaved))
    }
}
