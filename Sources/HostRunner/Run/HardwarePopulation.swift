import KVM
import Payload

/// The plan as the launch commands SEV-SNP and TDX hardware take, for a host with those VM
/// types: every populated range becomes KVM_SEV_SNP_LAUNCH_UPDATE / KVM_TDX_INIT_MEM_REGION
/// input, with the page type or measurement the plan's kind calls for. The runner's VMs are
/// default VMs populated through the guest_memfd mapping (see `HostProbe.population`); these
/// commands are what an SNP/TDX launch would issue for the same plan, in plan order.
enum HardwarePopulation {
    /// SEV-SNP: measured → NORMAL (contents measured), unmeasured → UNMEASURED, zero → ZERO
    /// (no source), shared → nothing (shared pages are never launch-updated). `source` gives
    /// the host address of a range's staged bytes.
    static func snpLaunchUpdates(_ plan: PopulationPlan, source: (PlanRange) -> UInt64) -> [SNPLaunchUpdate] {
        plan.ranges.compactMap { entry in
            guard entry.state == .private else { return nil }
            let type: SNPPageType
            switch entry.kind {
            case .measured: type = .normal
            case .unmeasured: type = .unmeasured
            case .zero: type = .zero
            case .shared: return nil
            }
            return SNPLaunchUpdate(gfnStart: entry.range.start >> 12, sourceAddress: type == .zero ? 0 : source(entry),
                                   length: entry.range.size, pageType: type)
        }
    }

    /// TDX: every private range is added with TDH.MEM.PAGE.ADD from its staged bytes (zero
    /// ranges from zero-filled staging), and only measured ones are extended into MRTD.
    static func tdxInitMemRegions(_ plan: PopulationPlan, source: (PlanRange) -> UInt64) -> [TDXInitMemRegion] {
        plan.ranges.compactMap { entry in
            guard entry.state == .private, entry.kind != .shared else { return nil }
            return TDXInitMemRegion(sourceAddress: source(entry), gpa: entry.range.start,
                                    pageCount: entry.range.size >> 12, measure: entry.kind == .measured)
        }
    }
}
