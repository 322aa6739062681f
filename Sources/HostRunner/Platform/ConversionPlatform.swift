/// The three guest→host conversion interfaces, by the platform that defines each.
public enum ConversionPlatform: String, Sendable, Codable, CaseIterable {
    /// KVM_HC_MAP_GPA_RANGE.
    case kvm
    /// SEV-SNP GHCB Page State Change.
    case ghcb
    /// TDX TDVMCALL MapGPA.
    case tdx
}
