import Crypto

/// The running SEV-SNP launch digest: each launch-update page replaces the digest with
/// SHA-384(PAGE_INFO), where PAGE_INFO carries the previous digest.
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
        let info = SNPPageInfo(currentDigest: value, contents: contents, pageType: type, gpa: gpa)
        value = Array(SHA384.hash(data: info.bytes))
    }

    /// NORMAL pages: CONTENTS is the SHA-384 of each page. `data.count` must be page-granular;
    /// callers check that first (a partial page is never measured by a VMM).
    public mutating func addNormalPages<Bytes: RandomAccessCollection>(gpa: UInt64, data: Bytes)
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var offset = data.startIndex
        var address = gpa
        while offset < data.endIndex {
            let end = min(offset + Self.pageSize, data.endIndex)
            let page = data[offset..<end]
            update(.normal, gpa: address, contents: Array(SHA384.hash(data: Array(page))))
            offset = end
            address += UInt64(Self.pageSize)
        }
    }

    /// Pages whose CONTENTS field is zero (ZERO, UNMEASURED, SECRETS, CPUID), one per 4 KiB.
    public mutating func addPages(_ type: SNPPageType, gpa: UInt64, size: UInt64) {
        let zero = [UInt8](repeating: 0, count: Self.size)
        var address = gpa
        while address < gpa + size {
            update(type, gpa: address, contents: zero)
            address += UInt64(Self.pageSize)
        }
    }

    /// One VMSA page.
    public mutating func addVMSA(_ page: [UInt8]) {
        update(.vmsa, gpa: Self.vmsaGPA, contents: Array(SHA384.hash(data: page)))
    }
}
