import GuestPhysical

/// A firmware image mapped so its last byte is at 4 GiB - 1, with every table we understand.
/// Parsing never throws: each structure that cannot be read is nil and its reason is in
/// `problems`, so a broken TDX table still leaves the SEV digests computable (and vice versa).
/// Only the tables are read to parse it; the digests read the rest through `contents`.
public struct FirmwareImage: Sendable {
    public static let fourGiB: UInt64 = 0x1_0000_0000

    public let contents: FirmwareContents
    public let footer: FooterTable?
    public let sevMetadata: SEVMetadata?
    public let tdxMetadata: TDXMetadata?
    public let sevESResetBlock: SEVESResetBlock?
    public let sevHashTableArea: SEVGuestArea?
    public let sevSecretArea: SEVGuestArea?
    /// Every problem found, in the order the structures were read.
    public let problems: [FirmwareError]

    /// The image size in bytes.
    public var size: Int { contents.count }

    /// GPA of the image's first byte (0 for an image too large to end at 4 GiB, which is
    /// reported in `problems` and measured by no digest).
    public var base: UInt64 {
        let (base, overflow) = Self.fourGiB.subtractingReportingOverflow(UInt64(size))
        return overflow ? 0 : base
    }

    /// The problems that concern one structure.
    public func problems(of structure: FirmwareStructure) -> [FirmwareError] {
        problems.filter { $0.structure == structure }
    }

    public init(bytes: [UInt8]) {
        self.init(contents: FirmwareContents(bytes))
    }

    public init(contents: FirmwareContents) {
        self.contents = contents
        var problems: [FirmwareError] = []
        // Within 4 GiB and page granular, or no VMM can map it below 4 GiB.
        if UInt64(contents.count) > Self.fourGiB || contents.count % 4096 != 0 {
            problems.append(.imageSizeNotPageMultiple(size: contents.count))
        }

        func attempt<T>(_ body: () throws(FirmwareError) -> T?) -> T? {
            do { return try body() } catch { problems.append(error); return nil }
        }

        let footer = attempt { () throws(FirmwareError) in try FooterTable.parse(contents) }
        self.footer = footer
        if let footer {
            sevMetadata = attempt { () throws(FirmwareError) in try SEVMetadata.parse(contents, footer: footer) }
            tdxMetadata = attempt { () throws(FirmwareError) in try TDXMetadata.parse(contents, footer: footer) }
            sevESResetBlock = attempt { () throws(FirmwareError) in try SEVESResetBlock.parse(footer) }
            sevHashTableArea = attempt { () throws(FirmwareError) in
                try SEVGuestArea.parse(footer, guid: KnownFirmwareGUID.sevHashTableBlock, structure: .sevHashTableBlock)
            }
            sevSecretArea = attempt { () throws(FirmwareError) in
                try SEVGuestArea.parse(footer, guid: KnownFirmwareGUID.sevSecretBlock, structure: .sevSecretBlock)
            }
        } else {
            sevMetadata = nil
            tdxMetadata = nil
            sevESResetBlock = nil
            sevHashTableArea = nil
            sevSecretArea = nil
        }
        let imageRange = GPARange(start: Self.fourGiB &- UInt64(min(UInt64(contents.count), Self.fourGiB)), end: Self.fourGiB)
        if let sevMetadata { problems += sevMetadata.sectionProblems(image: imageRange) }
        if let tdxMetadata { problems += tdxMetadata.sectionProblems(fileSize: contents.count) }
        self.problems = problems
    }
}
