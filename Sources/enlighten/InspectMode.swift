import ArgumentParser
import Foundation
import Measurement

/// `--mode`: which single digest to print, spelled as sev-snp-measure 0.0.13 spells its modes
/// (sev_mode.py `from_str`, cli.py), plus `tdx` for the MRTD.
enum InspectMode: String, CaseIterable, ExpressibleByArgument {
    case sev, seves, snp, snpOVMFHash = "snp:ovmf-hash", tdx

    init?(argument: String) {
        switch argument {
        case "sev", "SEV": self = .sev
        case "seves", "sev-es", "SEVES", "SEV-ES": self = .seves
        case "snp", "sev-snp", "SNP", "SEV-SNP": self = .snp
        case "snp:ovmf-hash": self = .snpOVMFHash
        case "tdx", "TDX", "mrtd", "MRTD": self = .tdx
        default: return nil
        }
    }

    static var allValueStrings: [String] { ["sev", "seves", "snp", "snp:ovmf-hash", "tdx"] }

    /// The digest the mode prints; nil for snp:ovmf-hash, which is not a launch digest.
    var digest: DigestKind? {
        switch self {
        case .sev: .sev
        case .seves: .sevES
        case .snp: .snp
        case .snpOVMFHash: nil
        case .tdx: .mrtd
        }
    }

    /// sev-snp-measure's `--verbose` label (the SevMode enum name).
    var verboseName: String {
        switch self {
        case .sev: "SEV"
        case .seves: "SEV_ES"
        case .snp, .snpOVMFHash: "SEV_SNP"
        case .tdx: "TDX"
        }
    }
}

/// `--output-format`.
enum DigestFormat: String, CaseIterable, ExpressibleByArgument {
    case hex, base64

    func render(_ digest: [UInt8]) -> String {
        switch self {
        case .hex: digest.map { String(format: "%02x", $0) }.joined()
        case .base64: Data(digest).base64EncodedString()
        }
    }
}
