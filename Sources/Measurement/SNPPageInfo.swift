/// The PAGE_INFO structure the SNP firmware hashes for every launch-update page
/// (SEV-SNP firmware ABI, "Layout of the PAGE_INFO structure"): the new launch digest is
/// SHA-384 of these 0x70 bytes.
public struct SNPPageInfo: Equatable, Sendable {
    public static let length = 0x70

    /// DIGEST_CUR: the launch digest before this page.
    public var currentDigest: [UInt8]
    /// CONTENTS: SHA-384 of the page for NORMAL and VMSA pages, zero for the other types.
    public var contents: [UInt8]
    public var pageType: SNPPageType
    /// IMI_PAGE: set only for pages of an incoming-migration image.
    public var isIMI: Bool = false
    /// VMPL1..3 permission masks; zero for a plain launch.
    public var vmpl3Permissions: UInt8 = 0
    public var vmpl2Permissions: UInt8 = 0
    public var vmpl1Permissions: UInt8 = 0
    /// GPA of the page (for the VMSA, the fixed value `SNPLaunchDigest.vmsaGPA`).
    public var gpa: UInt64

    public init(currentDigest: [UInt8], contents: [UInt8], pageType: SNPPageType, gpa: UInt64) {
        self.currentDigest = currentDigest
        self.contents = contents
        self.pageType = pageType
        self.gpa = gpa
    }

    /// The 0x70 bytes: DIGEST_CUR[48], CONTENTS[48], LENGTH u16, PAGE_TYPE u8, IMI_PAGE u8,
    /// VMPL3/2/1_PERMS u8 each, a reserved byte, GPA u64 — all little-endian.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(Self.length)
        out += currentDigest
        out += contents
        out.append(UInt8(Self.length & 0xFF))
        out.append(UInt8(Self.length >> 8))
        out.append(pageType.rawValue)
        out.append(isIMI ? 1 : 0)
        out += [vmpl3Permissions, vmpl2Permissions, vmpl1Permissions, 0]
        for index in 0..<8 { out.append(UInt8(truncatingIfNeeded: gpa >> (8 * index))) }
        return out
    }
}
