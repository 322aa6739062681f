import GuestABI

/// How a conversion reached the host: through which form of a guest-facing interface, or, for
/// a conversion the guest did not ask for, which access made KVM exit with
/// KVM_EXIT_MEMORY_FAULT. The event log, reports and `--json` spell it `description`; the
/// conformance catalogue compares the values.
public enum ConversionForm: Sendable, Hashable, CustomStringConvertible {
    /// A request the guest made (e.g. GHCB MSR protocol vs PSC NAE event).
    case request(ConversionInterface)
    /// An implicit conversion on KVM_EXIT_MEMORY_FAULT. Nil cause: KVM enforced private memory
    /// itself, and its exit names the page and the state wanted, not the access.
    case memoryFault(ImplicitConversionCause?)

    public var description: String {
        switch self {
        case .request(.kvmHypercall): "KVM_HC_MAP_GPA_RANGE"
        case .request(.ghcbMSR): "GHCB MSR protocol PSC"
        case .request(.ghcbPSC): "GHCB PSC NAE event"
        case .request(.tdxMapGPA): "TDVMCALL MapGPA"
        case .memoryFault(nil): "KVM_EXIT_MEMORY_FAULT"
        case .memoryFault(let cause?): "KVM_EXIT_MEMORY_FAULT (\(cause))"
        }
    }

    /// Whether the host converted without a request (the guest touched or validated the page).
    public var isImplicit: Bool {
        if case .memoryFault = self { true } else { false }
    }
}

/// What made the runner convert a page the guest did not ask to convert, where the runner
/// enforces private memory itself (docs/platform-model.md §1.3).
public enum ImplicitConversionCause: Sendable, Hashable, CustomStringConvertible {
    /// An access through the view that does not match the page's state.
    case access(view: PageState, GuestAccess)
    /// SEV-SNP PVALIDATE of a page the RMP has hypervisor-owned (#NPF).
    case pvalidateOfHypervisorOwnedPage
    /// TDX TDG.MEM.PAGE.ACCEPT of a page the Secure EPT does not hold.
    case acceptOfSharedPage

    public var description: String {
        switch self {
        case .access(let view, let access): "\(view.rawValue) \(access.rawValue)"
        case .pvalidateOfHypervisorOwnedPage: "PVALIDATE of a hypervisor-owned page"
        case .acceptOfSharedPage: "TDG.MEM.PAGE.ACCEPT of a shared page"
        }
    }
}
