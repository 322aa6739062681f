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
        return mrtd(sections: metadata.sections, image: image.bytes, order: order)
    }

    /// MRTD of already-validated sections (pages are read from `image` at DataOffset; bytes past
    /// RawDataSize are zero). PAGE.AUG sections are accepted by the guest later and not added.
    public static func mrtd(sections: [TDXSection], image: [UInt8], order: MRTDOrder) -> [UInt8] {
        var hasher = SHA384()
        for section in sections where !section.attributes.contains(.pageAug) {
            let pages = section.memorySize / UInt64(pageSize)
            let extend = section.attributes.contains(.mrExtend)
            switch order {
            case .interleaved:
                for page in 0..<pages {
                    addPage(section, page: page, hasher: &hasher)
                    if extend { extendPage(section, page: page, image: image, hasher: &hasher) }
                }
            case .twoPass:
                for page in 0..<pages { addPage(section, page: page, hasher: &hasher) }
                if extend {
                    for page in 0..<pages { extendPage(section, page: page, image: image, hasher: &hasher) }
                }
            }
        }
        return Array(hasher.finalize())
    }

    private static func addPage(_ section: TDXSection, page: UInt64, hasher: inout SHA384) {
        hasher.update(data: record("MEM.PAGE.ADD", gpa: section.memoryAddress + page * UInt64(pageSize)))
    }

    private static func extendPage(_ section: TDXSection, page: UInt64, image: [UInt8], hasher: inout SHA384) {
        let gpa = section.memoryAddress + page * UInt64(pageSize)
        for chunk in stride(from: 0, to: pageSize, by: extendChunk) {
            hasher.update(data: record("MR.EXTEND", gpa: gpa + UInt64(chunk)))
            hasher.update(data: bytes(of: section, at: page * UInt64(pageSize) + UInt64(chunk), image: image))
        }
    }

    /// 256 bytes of the section's memory image at `offset`: file data up to RawDataSize, then zero.
    private static func bytes(of section: TDXSection, at offset: UInt64, image: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: extendChunk)
        let raw = UInt64(section.rawSize)
        guard offset < raw else { return out }
        let count = Int(min(UInt64(extendChunk), raw - offset))
        let start = Int(UInt64(section.dataOffset) + offset)
        if start >= 0, start + count <= image.count {
            out.replaceSubrange(0..<count, with: image[start..<(start + count)])
        }
        return out
    }
}
