/// The VMM whose initial vCPU state and page order the SEV digests assume. sev-snp-measure
/// 0.0.13 (vmm_types.py, vmsa.py, guest.py) distinguishes the same three: their VMSAs differ in
/// segment attributes, RDX, PAT, MXCSR and FCW; GCE adds SNP_SEC_MEM as UNMEASURED pages and EC2
/// adds the CPUID page after every other metadata section.
public enum VMMType: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    case qemu = "QEMU", ec2, gce

    /// Case-insensitive, so `qemu`, `EC2` and `GCE` read as sev-snp-measure's names.
    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else { return nil }
        self = match
    }

    public var description: String { rawValue }
}
