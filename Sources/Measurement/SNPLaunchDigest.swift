import Crypto
import Payload

/// The running SEV-SNP launch digest: each launch-update page replaces the digest with
/// SHA-384(PAGE_INFO), where PAGE_INFO carries the previous digest. Every page is one link of
/// the chain (there is no shortcut for a run of ZERO pages: each PAGE_INFO carries its own GPA
/// and the digest before it), so the cost is one SHA-384 of 0x70 bytes per page, plus the
/// SHA-384 of the page itself for NORMAL pages; PAGE_INFO is assembled in place, without
/// allocating, to keep that cost at the hash.
public struct SNPLaunchDigest: Equatable, Sendable {
    public static let size = 48
    public static let pageSize = 4096
    /// The GPA recorded for a VMSA page: (u64)-1 page aligned with bits above 51 cleared, as the
    /// firmware records VMSAs in the RMP.
    public static let vmsaGPA: UInt64 = 0xFFFF_FFFF_F000

    public private(set) var value: [UInt8]

    /// Starts from `seed` (all zero for a fresh launch).
    public init(seed: [UInt8] = [UInt8](repeating: 0, count: 48)) {
        value = seed
    }

    /// Extends the digest with one page of `type` at `gpa` whose CONTENTS field is `contents`.
    public mutating func update(_ type: SNPPageType, gpa: UInt64, contents: [UInt8]) {
        contents.withUnsafeBytes { update(type, gpa: gpa, contents: $0) }
    }

    /// PAGE_INFO as `SNPPageInfo.bytes` lays it out (DIGEST_CUR, CONTENTS, LENGTH, PAGE_TYPE,
    /// IMI_PAGE and the VMPL permissions zero, GPA), built on the stack and hashed.
    private mutating func update(_ type: SNPPageType, gpa: UInt64, contents: UnsafeRawBufferPointer) {
        let next = withUnsafeTemporaryAllocation(byteCount: SNPPageInfo.length, alignment: 8) { info in
            info.initializeMemory(as: UInt8.self, repeating: 0)
            value.withUnsafeBytes { current in
                UnsafeMutableRawBufferPointer(rebasing: info[0..<min(current.count, 48)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: current[0..<min(current.count, 48)]))
            }
            UnsafeMutableRawBufferPointer(rebasing: info[48..<(48 + min(contents.count, 48))])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: contents[0..<min(contents.count, 48)]))
            info.storeBytes(of: UInt16(SNPPageInfo.length).littleEndian, toByteOffset: 0x60, as: UInt16.self)
            info[0x62] = type.rawValue
            info.storeBytes(of: gpa.littleEndian, toByteOffset: 0x68, as: UInt64.self)
            return Self.sha384(UnsafeRawBufferPointer(info))
        }
        if value.count == Self.size {
            next.withUnsafeBytes { digest in value.withUnsafeMutableBytes { $0.copyMemory(from: digest) } }
        } else {
            value = Array(next)
        }
    }

    /// NORMAL pages: CONTENTS is the SHA-384 of each page. `data.count` must be page-granular;
    /// callers check that first (a partial page is never measured by a VMM).
    public mutating func addNormalPages<Bytes: RandomAccessCollection>(gpa: UInt64, data: Bytes)
    where Bytes.Element == UInt8, Bytes.Index == Int {
        if let done: Void = data.withContiguousStorageIfAvailable({ addNormalPages(gpa: gpa, pages: UnsafeRawBufferPointer($0)) }) {
            return done
        }
        Array(data).withUnsafeBytes { addNormalPages(gpa: gpa, pages: $0) }
    }

    /// NORMAL pages from memory already in place (a piece of the image being read).
    public mutating func addNormalPages(gpa: UInt64, pages: UnsafeRawBufferPointer) {
        var offset = 0
        var address = gpa
        while offset < pages.count {
            let end = min(offset + Self.pageSize, pages.count)
            let contents = Self.sha384(UnsafeRawBufferPointer(rebasing: pages[offset..<end]))
            contents.withUnsafeBytes { update(.normal, gpa: address, contents: $0) }
            offset = end
            address &+= UInt64(Self.pageSize)
        }
    }

    /// The image's bytes in `range` as NORMAL pages from `gpa`, read piece by piece.
    public mutating func addNormalPages(gpa: UInt64, image: FirmwareContents, range: Range<Int>) throws(FirmwareError) {
        var address = gpa
        try image.forEachPiece(in: range) { piece in
            addNormalPages(gpa: address, pages: piece)
            address &+= UInt64(piece.count)
        }
    }

    /// Pages whose CONTENTS field is zero (ZERO, UNMEASURED, SECRETS, CPUID), one per 4 KiB.
    public mutating func addPages(_ type: SNPPageType, gpa: UInt64, size: UInt64) {
        let zero = [UInt8](repeating: 0, count: Self.size)
        zero.withUnsafeBytes { zero in
            var address = gpa
            while address < gpa + size {
                update(type, gpa: address, contents: zero)
                address += UInt64(Self.pageSize)
            }
        }
    }

    private static func sha384(_ bytes: UnsafeRawBufferPointer) -> SHA384.Digest {
        var hasher = SHA384()
        hasher.update(bufferPointer: bytes)
        return hasher.finalize()
    }

    /// One VMSA page.
    public mutating func addVMSA(_ page: [UInt8]) {
        let contents = page.withUnsafeBytes { Self.sha384($0) }
        contents.withUnsafeBytes { update(.vmsa, gpa: Self.vmsaGPA, contents: $0) }
    }
}
