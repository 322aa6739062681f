import Payload

/// The launch measurements we compute.
public enum DigestKind: String, Sendable, Codable, CustomStringConvertible {
    case sev = "SEV", sevES = "SEV-ES", snp = "SEV-SNP", mrtd = "TDX MRTD"
    public var description: String { rawValue }
}

/// Why a digest cannot be computed. Always names the digest and the precise cause.
public enum MeasurementError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A structure the digest depends on is broken; the firmware error says how.
    case brokenStructure(DigestKind, FirmwareError)
    /// A structure the digest needs is absent from the image.
    case missingStructure(DigestKind, FirmwareStructure, why: String)
    /// A caller-supplied option is out of range.
    case invalidOption(DigestKind, String)
    /// Kernel hashes were given for an image that has nowhere to put them.
    case kernelHashesUnsupported(DigestKind, why: String)
    /// A metadata section that this digest measures in a way its size does not allow.
    case sectionSizeUnsupported(DigestKind, section: Int, size: UInt64, why: String)

    public var digest: DigestKind {
        switch self {
        case .brokenStructure(let kind, _), .missingStructure(let kind, _, _),
            .invalidOption(let kind, _), .sectionSizeUnsupported(let kind, _, _, _),
            .kernelHashesUnsupported(let kind, _):
            return kind
        }
    }

    public var description: String {
        switch self {
        case .brokenStructure(let kind, let error):
            return "cannot compute the \(kind) digest: \(error)"
        case .missingStructure(let kind, let structure, let why):
            return "cannot compute the \(kind) digest: the image has no \(structure.rawValue) (\(why))"
        case .invalidOption(let kind, let text):
            return "cannot compute the \(kind) digest: \(text)"
        case .kernelHashesUnsupported(let kind, let why):
            return
                "cannot compute the \(kind) digest with --kernel: \(why); only a measured-direct-boot build (OVMF's AmdSev, or `enlighten build` firmware images) can take --kernel/--initrd/--append"
        case .sectionSizeUnsupported(let kind, let section, let size, let why):
            return "cannot compute the \(kind) digest: section \(section) has size 0x\(String(size, radix: 16)); \(why)"
        }
    }
}
