import GuestPhysical
import Payload

/// The memory sections a firmware volume's metadata asks the VMM to prepare for this run's
/// platform (SEV metadata on ghcb, TDVF metadata on tdx), numbered as `enlighten inspect`
/// lists them, with the one the launch was told to leave out (`RunOptions.launchOmittedSection`).
/// A fault's GPA is named by the section it lies in: which launch promise the firmware relied
/// on is what a firmware or VMM developer needs to know.
struct FirmwareMetadataSections {
    struct Section {
        let index: Int
        let type: String
        let range: GPARange
        /// Whether `--launch-omit-section` may name it (`checkOmission`).
        let omittable: Bool
    }

    /// "SEV" or "TDX".
    let metadata: String
    let sections: [Section]
    let omitted: Int?

    /// nil for images that are not firmware volumes, and for platforms with no launch metadata.
    init?(image: Image, platform: ConversionPlatform?, omitted: Int?) {
        guard image.isFirmwareVolume, let rom = image.romBytes() else { return nil }
        let firmware = FirmwareImage(bytes: rom)
        switch platform {
        case .sevSNP:
            guard let sev = firmware.sevMetadata else { return nil }
            metadata = "SEV"
            sections = sev.sections.enumerated().map {
                Section(
                    index: $0.offset, type: "\($0.element.type)",
                    range: GPARange(start: UInt64($0.element.gpa), end: UInt64($0.element.gpa) + UInt64($0.element.size)),
                    omittable: $0.element.type == .snpSecureMemory)
            }
        case .tdx:
            guard let tdx = firmware.tdxMetadata else { return nil }
            metadata = "TDX"
            sections = tdx.sections.enumerated().map {
                Section(
                    index: $0.offset, type: "\($0.element.type)",
                    range: GPARange(start: $0.element.memoryAddress, end: $0.element.memoryAddress + $0.element.memorySize),
                    omittable: $0.element.type == .tempMem)
            }
        case .kvm, nil:
            return nil
        }
        self.omitted = omitted
    }

    /// "in SEV metadata section 1, SNP_SEC_MEM [0x80a000, 0x80d000), omitted at launch", or nil
    /// when `gpa` lies in no section.
    func name(_ gpa: UInt64) -> String? {
        guard let section = sections.first(where: { $0.range.contains(gpa) }) else { return nil }
        return "in \(metadata) metadata section \(section.index), \(section.type) \(section.range)"
            + (section.index == omitted ? ", omitted at launch" : "")
    }

    /// Refuses a `--launch-omit-section` that names no section the launch could leave out, with
    /// the ones it could: SEV SNP_SEC_MEM (zero pages the launch validates) and TDX TEMP_MEM
    /// (zero pages TDH.MEM.PAGE.ADD adds), memory only the guest's own code uses, so leaving
    /// one out is the VMM bug the firmware meets. The secrets, CPUID and TD_HOB pages carry
    /// contents the firmware parses, which is another kind of launch defect.
    static func checkOmission(image: Image, options: RunOptions) throws(RunError) {
        guard let index = options.launchOmittedSection else { return }
        guard let platform = options.platform, platform != .kvm else {
            throw .invalidOptions("--launch-omit-section needs --platform ghcb or tdx: a kvm launch prepares no metadata sections")
        }
        guard let sections = FirmwareMetadataSections(image: image, platform: platform, omitted: index) else {
            throw .invalidOptions(
                "--launch-omit-section needs a UEFI firmware volume (such as OVMF.fd) with \(platform == .tdx ? "TDVF" : "SEV") metadata")
        }
        let allowed = sections.sections.filter(\.omittable)
        guard allowed.contains(where: { $0.index == index }) else {
            let list = allowed.map { "\($0.index) (\($0.type) \($0.range))" }.joined(separator: ", ")
            let named = sections.sections.first { $0.index == index }.map { "section \(index) is \($0.type)" } ?? "there is no section \(index)"
            throw .invalidOptions(
                "--launch-omit-section \(index): \(named); only \(platform == .tdx ? "TEMP_MEM" : "SNP_SEC_MEM") sections can be left out of this launch: \(list.isEmpty ? "none" : list)"
            )
        }
    }
}
