import HostRunner

extension HostProbe {
    /// What the reports record about the host, as JUnit properties and JSON `properties`.
    public var facts: [String: String] {
        var facts = [
            "probe.nativeHypercallDelivered": String(nativeHypercallDelivered),
            "probe.snp": String(capabilities.snp),
            "probe.tdx": String(capabilities.tdx),
            "probe.population": population.rawValue,
        ]
        for (platform, transport) in transports { facts["probe.transport.\(platform.rawValue)"] = transport.rawValue }
        return facts
    }

    /// Why `--transport native` cannot carry `platform`'s requests on this host, or nil.
    public func nativeUnavailable(_ platform: ConversionPlatform) -> String? {
        switch platform {
        case .kvm:
            nativeHypercallDelivered ? nil
                : "--transport native: this host's KVM does not deliver KVM_EXIT_HYPERCALL for KVM_HC_MAP_GPA_RANGE (see `enlighten probe`)"
        case .ghcb, .tdx:
            // HostProbe: PSC and MapGPA become hypercall exits only inside SNP/TDX VMs, which
            // the runner does not create.
            "--transport native: \(platform.rawValue) requests reach the host natively only from an SNP or TDX VM, which the runner does not create"
        }
    }
}
