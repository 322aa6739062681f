import GuestPhysical

/// A guest's own request to be ended, with what it said: the verdict of a run that stops
/// this way is the guest's, not a runner failure (`VCPUStop.terminationRequested`).
public enum GuestTermination: Sendable, Equatable, CustomStringConvertible {
    /// SEV-SNP: the GHCB termination request, through the GHCB MSR protocol (request 0x100)
    /// or the GHCB page (NAE event 0x8000FFFE); KVM ends the run with
    /// KVM_SYSTEM_EVENT_SEV_TERM and passes the request on (arch/x86/kvm/svm/sev.c).
    case ghcb(reasonSet: UInt8, reasonCode: UInt8, via: GHCBTerminationPath)
    /// TDX: TDG.VP.VMCALL<ReportFatalError>; KVM ends the run with KVM_SYSTEM_EVENT_TDX_FATAL
    /// (arch/x86/kvm/vmx/tdx.c `tdx_report_fatal_error`). `message` is the up to 64 bytes of
    /// the exposed message registers, up to the first NUL; `gpa` is R13 when R12 bit 63 says
    /// it holds one.
    case tdxFatalError(errorCode: UInt64, gpa: UInt64?, message: String)

    public enum GHCBTerminationPath: String, Sendable, Equatable {
        case msrProtocol = "GHCB MSR protocol"
        case naeEvent = "GHCB NAE event"
    }

    public var description: String {
        switch self {
        case .ghcb(let set, let code, let via):
            "reason set \(set), code \(code)\(Self.ghcbReasonName(set: set, code: code).map { " (\($0))" } ?? "") by \(via.rawValue)"
        case .tdxFatalError(let errorCode, let gpa, let message):
            "ReportFatalError, error code \(hex(errorCode))" + (gpa.map { ", data at \(hex($0))" } ?? "")
                + (message.isEmpty ? "" : ", message \"\(message)\"")
        }
    }

    /// The names reason set 0 gives its codes (GHCB specification, "Termination Request";
    /// Linux asm/sev-common.h `GHCB_SEV_ES_GEN_REQ`, `GHCB_SEV_ES_PROT_UNSUPPORTED`,
    /// `GHCB_SNP_UNSUPPORTED`). Other sets are the guest's own.
    static func ghcbReasonName(set: UInt8, code: UInt8) -> String? {
        guard set == 0 else { return nil }
        switch code {
        case 0: return "general termination request"
        case 1: return "SEV-ES / GHCB protocol range is not supported"
        case 2: return "SEV-SNP features are not supported"
        default: return nil
        }
    }
}
