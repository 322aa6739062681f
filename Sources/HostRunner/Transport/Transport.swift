/// How a guest's conversion requests of one interface reach the host.
public enum Transport: String, Sendable, Codable, CaseIterable {
    /// KVM delivers KVM_EXIT_HYPERCALL (on SNP/TDX hardware it turns PSC and MapGPA into it).
    case native
    /// The runner traps the request instruction with a hardware breakpoint (and the GHCB MSR
    /// with user-space MSR exits) and performs the host's side itself.
    case trap
    case unavailable
}
