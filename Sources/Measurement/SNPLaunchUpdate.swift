import Payload

/// One SNP_LAUNCH_UPDATE a VMM issues before the guest's first instruction. The ordered list of
/// them is the launch: the digest folds over it, `inspect` prints it, and the runner writes it.
public struct SNPLaunchUpdate: Equatable, Sendable {
    /// What the update puts into the pages and so what PAGE_INFO.CONTENTS records.
    public enum Contents: Equatable, Sendable {
        /// NORMAL pages copied from the firmware image, starting at this file offset.
        case image(fileOffset: Int)
        /// NORMAL or VMSA pages with these exact bytes (the kernel-hash page, a VMSA).
        case bytes([UInt8])
        /// ZERO, UNMEASURED, SECRETS and CPUID pages: CONTENTS is zero; the PSP fills or checks
        /// SECRETS and CPUID itself.
        case none
    }

    public let type: SNPPageType
    public let gpa: UInt64
    public let size: UInt64
    public let contents: Contents
    /// Where the update comes from: "image", "SEV section 2 (CPUID)", "VMSA of vCPU 0 (BSP)".
    public let source: String

    public init(type: SNPPageType, gpa: UInt64, size: UInt64, contents: Contents, source: String) {
        self.type = type
        self.gpa = gpa
        self.size = size
        self.contents = contents
        self.source = source
    }
}

extension SNPLaunchDigest {
    /// Extends the digest with every page of `update`; image pages are read from `image`.
    public mutating func apply(_ update: SNPLaunchUpdate, image: FirmwareContents) throws(FirmwareError) {
        switch update.contents {
        case .image(let offset):
            try addNormalPages(gpa: update.gpa, image: image, range: offset..<(offset + Int(update.size)))
        case .bytes(let bytes) where update.type == .vmsa:
            addVMSA(bytes)
        case .bytes(let bytes):
            addNormalPages(gpa: update.gpa, data: bytes)
        case .none:
            addPages(update.type, gpa: update.gpa, size: update.size)
        }
    }
}

extension SNPLaunchUpdate {
    /// The update as a line of the population list `inspect` prints. Every launch-update page's
    /// GPA and type enter the digest; CONTENTS is recorded for NORMAL and VMSA pages, and ZERO
    /// pages are zero by definition.
    public var populationStep: FirmwarePopulationStep {
        let how: String
        switch type {
        case .normal:
            if case .image = contents {
                how = "image bytes, LAUNCH_UPDATE NORMAL pages"
            } else {
                how = "bytes the VMM writes, LAUNCH_UPDATE NORMAL page"
            }
        case .zero: how = "zero, LAUNCH_UPDATE ZERO pages"
        case .unmeasured: how = "left as the VMM wrote them, LAUNCH_UPDATE UNMEASURED pages"
        case .secrets: how = "secrets filled by the SNP firmware, SECRETS page"
        case .cpuid: how = "CPUID table from the VMM, checked by the SNP firmware, CPUID page"
        case .vmsa: how = "initial vCPU state, LAUNCH_UPDATE VMSA page"
        }
        return FirmwarePopulationStep(
            platform: .snp, gpa: gpa, size: size, how: how,
            contentsMeasured: [.normal, .zero, .vmsa].contains(type), source: source)
    }
}
