/// The guest-facing interface a conversion request arrived through.
///
/// Reports name it so a reader can tell which spec's error mapping applied.
public enum ConversionInterface: Sendable, Hashable, CaseIterable {
    /// KVM_HC_MAP_GPA_RANGE, from `vmcall`/`vmmcall`, the GHCB VMMCALL event or a TDX
    /// TDG.VP.VMCALL with a non-zero R10.
    case kvmHypercall
    /// The GHCB MSR protocol Page State Change request (one 4 KiB page).
    case ghcbMSR
    /// The GHCB Page State Change NAE event (a descriptor of up to 253 entries).
    case ghcbPSC
    /// TDX TDG.VP.VMCALL<MapGPA>.
    case tdxMapGPA
}
