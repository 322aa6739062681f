/// The three guest→host conversion interfaces, by the platform that defines each. The
/// command line, reports and `--json` spell them `kvm`, `ghcb` and `tdx` (the raw values);
/// the code names the platform.
public enum ConversionPlatform: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// KVM_HC_MAP_GPA_RANGE.
    case kvm
    /// AMD SEV-SNP: GHCB Page State Change (spelled `ghcb` outside the code).
    case sevSNP = "ghcb"
    /// TDX TDVMCALL MapGPA.
    case tdx

    /// The interface's word in reports: the raw value.
    public var description: String { rawValue }
}
