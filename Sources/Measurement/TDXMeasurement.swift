import Crypto
import Payload

/// The order in which a VMM issues TDH.MEM.PAGE.ADD and TDH.MR.EXTEND; MRTD depends on it.
public enum MRTDOrder: String, Sendable, CaseIterable, Codable {
    /// Per page: PAGE.ADD, then that page's MR.EXTENDs (current KVM: KVM_TDX_INIT_MEM_REGION).
    case interleaved
    /// Per section: PAGE.ADD of every page, then the MR.EXTENDs of every page.
    case twoPass = "two-pass"
}

/// TDX MRTD: one SHA-384 over the 128-byte records the TDX module appends for each
/// TDH.MEM.PAGE.ADD ("MEM.PAGE.ADD", GPA at byte 16) and TDH.MR.EXTEND ("MR.EXTEND", GPA at
/// byte 16, followed by the 256 bytes extended), finalised by TDH.MR.FINALIZE.
public enum TDXMeasurement {
    public static let pageSize = 4096
    public static let extendChunk = 256
    public static let recordSize = 128

    /// The 128-byte record for one operation.
    public static func record(_ operation: String, gpa: UInt64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: recordSize)
        for (index, byte) in operation.utf8.prefix(16).enumerated() { out[index] = byte }
        for index in 0..<8 { out[16 + index] = UInt8(truncatingIfNeeded: gpa >> (8 * index)) }
        return out
    }

    public static func mrtd(of image: FirmwareImage, order: MRTDOrder) throws(MeasurementError) -> [UInt8] {
        for structure in [FirmwareStructure.image, .footer, .tdxMetadata] {
            if let problem = image.problems(of: structure).first { throw .brokenStructure(.mrtd, problem) }
        }
        guard let metadata = image.tdxMetadata else {
            throw .missingStructure(.mrtd, .tdxMetadata, why: "no TDVF descriptor is referenced by the footer table")
        }
        do { return try mrtd(sections: metadata.sections, image: image.contents, order: order) } catch {
            throw .brokenStructure(.mrtd, error)
        }
    }

    public static func mrtd(sections: [TDXSection], image: [UInt8], order: MRTDOrder) throws(FirmwareError) -> [UInt8] {
        try mrtd(sections: sections, image: FirmwareContents(image), order: order)
    }

    /// MRTD of already-validated sections (pages are read from `image` at DataOffset, piece by
    /// piece; bytes past RawDataSize, or past the image, are zero). PAGE.AUG sections are
    /// accepted by the guest later and not added.
    public static func mrtd(sections: [TDXSection], image: FirmwareContents, order: MRTDOrder) throws(FirmwareError) -> [UInt8] {
        var log = MRTDLog()
        for section in sections where !section.attributes.contains(.pageAug) {
            let pages = section.memorySize / UInt64(pageSize)
            guard section.attributes.contains(.mrExtend) else {
                for page in 0..<pages { log.add(section.memoryAddress + page * UInt64(pageSize)) }
                continue
            }
            switch order {
            case .interleaved:
                try forEachPage(of: section, pages: pages, image: image) { gpa, bytes in
                    log.add(gpa)
                    log.extend(gpa, page: bytes)
                }
            case .twoPass:
                for page in 0..<pages { log.add(section.memoryAddress + page * UInt64(pageSize)) }
                try forEachPage(of: section, pages: pages, image: image) { gpa, bytes in log.extend(gpa, page: bytes) }
            }
        }
        return log.finalize()
    }

    /// Calls `body` with each page's GPA and its 4096 bytes: the image's bytes from DataOffset
    /// (read in pieces) up to RawDataSize, then zero.
    private static func forEachPage(
        of section: TDXSection, pages: UInt64, image: FirmwareContents,
        _ body: (UInt64, UnsafeRawBufferPointer) -> Void
    ) throws(FirmwareError) {
        let start = Int(section.dataOffset)
        let rawEnd = min(start + Int(min(UInt64(section.rawSize), section.memorySize)), image.count)
        var page = UInt64(0)
        let partial = UnsafeMutableRawBufferPointer.allocate(byteCount: pageSize, alignment: 16)
        defer { partial.deallocate() }
        if start < rawEnd {
            try image.forEachPiece(in: start..<rawEnd) { piece in
                var offset = 0
                while offset < piece.count {
                    let end = min(offset + pageSize, piece.count)
                    let gpa = section.memoryAddress + page * UInt64(pageSize)
                    if end - offset == pageSize {
                        body(gpa, UnsafeRawBufferPointer(rebasing: piece[offset..<end]))
                    } else {
                        partial.initializeMemory(as: UInt8.self, repeating: 0)
                        UnsafeMutableRawBufferPointer(rebasing: partial[0..<(end - offset)])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: piece[offset..<end]))
                        body(gpa, UnsafeRawBufferPointer(partial))
                    }
                    offset = end
                    page += 1
                }
            }
        }
        partial.initializeMemory(as: UInt8.self, repeating: 0)
        while page < pages {
            body(section.memoryAddress + page * UInt64(pageSize), UnsafeRawBufferPointer(partial))
            page += 1
        }
    }
}

/// The SHA-384 the TDX module keeps, fed from two 128-byte record buffers reused for every
/// operation, so a section costs its hashing and no allocation per page.
private struct MRTDLog {
    private var hasher = SHA384()
    private var addRecord = TDXMeasurement.record("MEM.PAGE.ADD", gpa: 0)
    private var extendRecord = TDXMeasurement.record("MR.EXTEND", gpa: 0)

    mutating func add(_ gpa: UInt64) {
        Self.feed(&addRecord, gpa: gpa, into: &hasher)
    }

    /// TDH.MR.EXTEND of each 256-byte chunk of the page at `gpa`.
    mutating func extend(_ gpa: UInt64, page: UnsafeRawBufferPointer) {
        for chunk in stride(from: 0, to: TDXMeasurement.pageSize, by: TDXMeasurement.extendChunk) {
            Self.feed(&extendRecord, gpa: gpa + UInt64(chunk), into: &hasher)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: page[chunk..<(chunk + TDXMeasurement.extendChunk)]))
        }
    }

    mutating func finalize() -> [UInt8] { Array(hasher.finalize()) }

    private static func feed(_ record: inout [UInt8], gpa: UInt64, into hasher: inout SHA384) {
        record.withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: gpa.littleEndian, toByteOffset: 16, as: UInt64.self)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(bytes))
        }
    }
}
