import GuestPhysical
import Payload

/// One range the runner filled before the first instruction as a confidential VMM's launch
/// does, in the order it filled them, with the SNP page type the launch gives it. This list is
/// the hook the platform memory model reads to mark launch-validated (SNP) or added (TDX)
/// pages, and what the run's SNP launch digest is computed from.
public struct LaunchPage: Sendable, Equatable {
    /// SNP_LAUNCH_UPDATE page types (SEV-SNP firmware ABI, PAGE_TYPE), and the TDX HOB.
    public enum Kind: String, Sendable, Equatable, Codable {
        case normal, zero, unmeasured, secrets, cpuid, vmsa
        /// TDX: the TD HOB, added with TDH.MEM.PAGE.ADD, not extended.
        case tdHob
        /// TDX: a TEMP_MEM section, added as zero pages, not extended.
        case tdTempMem
    }

    public let kind: Kind
    public let range: GPARange
    /// The bytes written, for pages the runner fills itself (kernel hashes, CPUID, secrets,
    /// HOB); nil for the image's own bytes (the ROM) and for zero pages.
    public let contents: [UInt8]?
    /// Where the page comes from.
    public let source: Source

    /// Where a launch page comes from; `description` is how reports and `--json` name it.
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        /// The image's own bytes (the ROM).
        case image
        /// A section of the firmware's SEV metadata, by index and type; `kernelHashTable` when
        /// the runner wrote the kernel/initrd/cmdline hashes into it.
        case sevSection(index: Int, SEVSectionType, kernelHashTable: Bool = false)
        /// The TD_HOB section of the firmware's TDX metadata.
        case tdHobSection
        /// A TEMP_MEM section of the firmware's TDX metadata.
        case tdTempMemSection

        public var description: String {
            switch self {
            case .image: "image"
            case .sevSection(let index, let type, let kernelHashTable):
                "SEV section \(index) (\(type))" + (kernelHashTable ? ", the kernel/initrd/cmdline hash table" : "")
            case .tdHobSection: "TDX TD_HOB section"
            case .tdTempMemSection: "TDX TEMP_MEM section"
            }
        }
    }

    public init(kind: Kind, range: GPARange, contents: [UInt8]?, source: Source) {
        self.kind = kind
        self.range = range
        self.contents = contents
        self.source = source
    }
}
