import GuestABI
import HostRunner

/// The requests a well-behaved SNP or TDX guest forwards through its platform's protocol
/// instead of executing (GHCB NAE events, TDVMCALL sub-functions), and its own termination
/// request. Expectations from the GHCB specification, the GHCI and KVM's sev.c / tdx.c; each
/// stub's header cites them.
extension Catalogue {
    static let ghcbNAEEvents = Scenario(
        name: "ghcb-nae-events",
        proves:
            "GHCB IOIO (IN, OUT, REP OUTSB through the scratch area), MSR, CPUID (with XCR0), MMIO and MSR-protocol CPUID requests reach the report channel and the runner's devices with KVM's answers, and malformed events get their GHCB error codes",
        failureMeans: "a GHCB NAE event is decoded or answered unlike KVM's sev.c, or the protocol path reaches other devices than a raw access",
        platforms: [.sevSNP],
        expectations: { _ in
            [
                .guestPasses,
                .value("forwarded.record", equals: 0x4E_4145),
                .logLine("nae console"),
                .logLine("nae rep outsb"),
                // The unknown MSR (#GP answer) and the three malformed events.
                .rejections(4),
                .conversions([]),
            ]
        })

    static let tdxTDVMCalls = Scenario(
        name: "tdx-tdvmcalls",
        proves:
            "TDVMCALL Instruction.IO, RDMSR, WRMSR, CPUID, #VE.RequestMMIO and GetTdVmCallInfo reach the report channel and the runner's devices with KVM's answers, and bad operands get INVALID_OPERAND",
        failureMeans:
            "a TDVMCALL sub-function is decoded or answered unlike KVM's tdx.c and the GHCI, or the protocol path reaches other devices than a raw access",
        platforms: [.tdx],
        expectations: { _ in
            [
                .guestPasses,
                .value("forwarded.record", equals: 0x54_4458),
                .logLine("tdx console"),
                // RDMSR, WRMSR, the private MMIO GPA, IO size 3 and direction 2.
                .rejections(5),
                .conversions([]),
            ]
        })

    static let msrIntercepts = Scenario(
        name: "msr-intercepts",
        proves:
            "a raw RDMSR/WRMSR of an MSR the platform intercepts is not executed and raises #VC 0x7C (SNP) or #VE with VE info exit reason 31/32, qualification 0 and length 2 (TDX; #GP(0) for a performance counter) at the instruction, one the platform lets run runs, and forwarded MSRs get KVM's answers for the platform's guests (IA32_APIC_BASE's reset value; a TD's read-only and unemulated MSRs and an unknown MSR refused)",
        failureMeans:
            "a raw MSR access reached KVM where the platform's hardware intercepts it (or the reverse), the exception, its code or VE info or its RIP differs, or a forwarded MSR is answered unlike KVM's sev.c / tdx.c",
        platforms: [.sevSNP, .tdx],
        // The intercepts are a KVM MSR filter whose denials exit to user space.
        skip: { probe, _ in
            probe.capabilities.userSpaceMSR && probe.capabilities.msrFilter
                ? nil
                : "raw MSR accesses cannot be intercepted on this host: it lacks KVM_CAP_X86_USER_SPACE_MSR or KVM_CAP_X86_MSR_FILTER (see `enlighten probe`)"
        },
        expectations: { platform in
            [
                .guestPasses,
                .value("msr.platform", equals: platform == .tdx ? 3 : 2),
                // SNP: the unknown MSR (#GP answer); TDX: TSC, the APIC base write, the unknown MSR.
                .rejections(platform == .tdx ? 3 : 1),
                .custom("the event log names both intercepted accesses of MSR 0x1b") { result in
                    let intercepted = result.events.compactMap { event -> Bool? in
                        guard case .served(_, _, .msrIntercept(0x1B, let write, _), _) = event else { return nil }
                        return write
                    }
                    return intercepted == [false, true] ? nil : "intercepted accesses of 0x1b (write?): \(intercepted)"
                },
                .conversions([]),
            ]
        })

    static let ghcbTerminate = Scenario(
        name: "ghcb-terminate",
        proves:
            "a GHCB termination request (NAE event 0x8000FFFE) ends the run as the guest's verdict with its reason set and code, without resuming the guest",
        failureMeans: "the termination request was answered, ignored, or its reason misread",
        platforms: [.sevSNP],
        expectations: { _ in
            [
                .terminates(.ghcb(reasonSet: 0, reasonCode: 0, via: .naeEvent))
            ]
        })

    static let tdxFatalError = Scenario(
        name: "tdx-fatal-error",
        proves: "TDVMCALL<ReportFatalError> ends the run as the guest's verdict with its error code and message, without resuming the guest",
        failureMeans: "ReportFatalError was answered, ignored, or its code or message misread",
        platforms: [.tdx],
        expectations: { _ in
            [
                .terminates(.tdxFatalError(errorCode: 0x1234, gpa: nil, message: "enlighten"))
            ]
        })
}
