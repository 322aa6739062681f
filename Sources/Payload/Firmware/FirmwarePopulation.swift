import GuestPhysical

/// One range a VMM populates before the first instruction, as a firmware image's metadata
/// directs it, and what the launch measurement records of it.
public struct FirmwarePopulationStep: Equatable, Sendable, Encodable {
    public enum Platform: String, Sendable, Codable { case snp = "SEV-SNP", tdx = "TDX" }

    public let platform: Platform
    public let gpa: UInt64
    public let size: UInt64
    /// How the pages get their contents and which operation adds them.
    public let how: String
    /// Whether the page contents enter the measurement (not just their GPAs and types).
    public let contentsMeasured: Bool
    /// Whether the GPAs (and, SNP, the page types) enter the measurement: true for every
    /// launch-update page and every TDH.MEM.PAGE.ADD, false for PAGE.AUG sections.
    public let addressMeasured: Bool
    /// Where the step comes from: the image itself or a metadata section.
    public let source: String

    public init(
        platform: Platform, gpa: UInt64, size: UInt64, how: String, contentsMeasured: Bool,
        addressMeasured: Bool = true, source: String
    ) {
        self.platform = platform
        self.gpa = gpa
        self.size = size
        self.how = how
        self.contentsMeasured = contentsMeasured
        self.addressMeasured = addressMeasured
        self.source = source
    }

    /// JSON as docs/json.md has it: the GPA a "0x…" string, the size a number.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(platform, forKey: .platform)
        try container.encode(hex(gpa), forKey: .gpa)
        try container.encode(size, forKey: .size)
        try container.encode(how, forKey: .how)
        try container.encode(contentsMeasured, forKey: .contentsMeasured)
        try container.encode(addressMeasured, forKey: .addressMeasured)
        try container.encode(measurement, forKey: .measurement)
        try container.encode(source, forKey: .source)
    }

    private enum Keys: String, CodingKey { case platform, gpa, size, how, contentsMeasured, addressMeasured, measurement, source }

    /// The measurement column of `inspect`: what of this step the digest records.
    public var measurement: String {
        contentsMeasured ? "contents measured" : addressMeasured ? "contents unmeasured" : "not measured"
    }
}

/// The population plan derived from the firmware's own tables: what `enlighten inspect`
/// prints and what the measurement code walks, in the same order.
public enum FirmwarePopulation {
    /// SEV-SNP: the whole image as NORMAL pages, then the SEV metadata sections in order.
    public static func snp(_ image: FirmwareImage) -> [FirmwarePopulationStep] {
        var steps = [
            FirmwarePopulationStep(
                platform: .snp, gpa: image.base, size: UInt64(image.size),
                how: "image bytes, LAUNCH_UPDATE NORMAL pages", contentsMeasured: true,
                source: "image")
        ]
        for (index, section) in (image.sevMetadata?.sections ?? []).enumerated() {
            let (how, measured): (String, Bool)
            switch section.type {
            case .snpSecureMemory, .svsmCallingArea: (how, measured) = ("zero, LAUNCH_UPDATE ZERO pages", true)
            case .snpSecrets: (how, measured) = ("secrets filled by the SNP firmware, SECRETS page", false)
            case .cpuid: (how, measured) = ("CPUID table from the VMM, checked by the SNP firmware, CPUID page", false)
            case .kernelHashes: (how, measured) = ("kernel/initrd/cmdline hash table (zero without a kernel), NORMAL pages", true)
            case .unknown: (how, measured) = ("unknown section type: a VMM cannot populate it", false)
            }
            steps.append(
                FirmwarePopulationStep(
                    platform: .snp, gpa: UInt64(section.gpa), size: UInt64(section.size),
                    how: how, contentsMeasured: measured,
                    source: "SEV section \(index) (\(section.type))"))
        }
        return steps
    }

    /// TDX: the TDVF sections in order, each added with TDH.MEM.PAGE.ADD (or left to the guest
    /// with PAGE.AUG) and extended into MRTD when MR.EXTEND is set.
    public static func tdx(_ image: FirmwareImage) -> [FirmwarePopulationStep] {
        (image.tdxMetadata?.sections ?? []).enumerated().map { index, section in
            let contents =
                section.rawSize == 0
                ? "zero"
                : "\(hex(section.rawSize)) image bytes from file offset \(hex(section.dataOffset))"
            let how: String
            if section.attributes.contains(.pageAug) {
                how = "not added before launch: the guest accepts it (PAGE.AUG)"
            } else {
                how = "\(contents), TDH.MEM.PAGE.ADD" + (section.attributes.contains(.mrExtend) ? " + TDH.MR.EXTEND" : "")
            }
            return FirmwarePopulationStep(
                platform: .tdx, gpa: section.memoryAddress, size: section.memorySize, how: how,
                contentsMeasured: section.attributes.contains(.mrExtend)
                    && !section.attributes.contains(.pageAug),
                addressMeasured: !section.attributes.contains(.pageAug),
                source: "TDX section \(index) (\(section.type))")
        }
    }
}
