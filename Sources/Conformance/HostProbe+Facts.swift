import HostRunner

extension HostProbe {
    /// What the reports record about the host, as JUnit properties and JSON `properties`:
    /// with the backing the runs used (`backing`, when one was asked for) in place of the
    /// probe's own choice, so nothing claims guest_memfd where the stand-in served.
    public var facts: [String: String] { facts(backing: ramBacking) }

    public func facts(backing: RAMBacking) -> [String: String] {
        var facts = [
            "probe.nativeHypercallDelivered": String(nativeHypercallDelivered),
            "probe.snp": String(capabilities.snp),
            "probe.tdx": String(capabilities.tdx),
            "probe.population": population.rawValue,
            "backing": backing.kind.rawValue,
            "backing.reason": backing.reason,
            "backing.memslot": backing.memslotCall.rawValue,
            "probe.profile": profile.description,
        ]
        for (platform, transport) in transports { facts["probe.transport.\(platform.rawValue)"] = transport.rawValue }
        return facts
    }

    /// Why `--transport native` cannot carry `platform`'s requests on this host, or nil.
    public func nativeUnavailable(_ platform: ConversionPlatform) -> String? {
        switch platform {
        case .kvm:
            nativeHypercallDelivered
                ? nil
                : "--transport native: this host's KVM does not deliver KVM_EXIT_HYPERCALL for KVM_HC_MAP_GPA_RANGE (see `enlighten probe`)"
        case .sevSNP, .tdx:
            // HostProbe: PSC and MapGPA become hypercall exits only inside SNP/TDX VMs, which
            // the runner does not create.
            "--transport native: \(platform.rawValue) requests reach the host natively only from an SNP or TDX VM, which the runner does not create"
        }
    }
}
