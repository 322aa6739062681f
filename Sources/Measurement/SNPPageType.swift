/// Page types of SNP_LAUNCH_UPDATE (SEV-SNP firmware ABI, PAGE_TYPE).
public enum SNPPageType: UInt8, Sendable {
    case normal = 1, vmsa = 2, zero = 3, unmeasured = 4, secrets = 5, cpuid = 6
}
