/// An NAE event a guest sent through its GHCB, decoded after the checks KVM makes
/// (arch/x86/kvm/svm/sev.c `sev_es_validate_vmgexit`, `sev_handle_vmgexit`,
/// `sev_es_string_io`, `setup_vmgexit_scratch`).
public enum GHCBEvent: Sendable, Hashable {
    /// IN (SVM_EXIT_IOIO, TYPE = 1, no STR). `rax` is the guest's RAX if marked
    /// valid, else 0: KVM merges a 1- or 2-byte result into it.
    case portIn(port: UInt16, size: Int, rax: UInt64)
    /// OUT: the low `size` bytes of RAX go to the port.
    case portOut(port: UInt16, size: Int, value: UInt64)
    /// INS / REP INS: `count` (SW_EXITINFO2) items of `size` bytes into the scratch area.
    case stringPortIn(port: UInt16, size: Int, count: UInt64, scratch: GHCBScratchArea)
    /// OUTS / REP OUTS: `count` items of `size` bytes from the scratch area.
    case stringPortOut(port: UInt16, size: Int, count: UInt64, scratch: GHCBScratchArea)
    /// RDMSR (SVM_EXIT_MSR, SW_EXITINFO1 = 0): ECX is the index.
    case msrRead(index: UInt32)
    /// WRMSR (SW_EXITINFO1 ≠ 0): EDX:EAX is the value (`kvm_read_edx_eax`).
    case msrWrite(index: UInt32, value: UInt64)
    /// CPUID: EAX leaf, ECX subleaf, with XCR0 and XSS where the guest supplied them.
    case cpuid(leaf: UInt32, subleaf: UInt32, xcr0: UInt64?, xss: UInt64?)
    /// MMIO read of SW_EXITINFO2 bytes at the GPA in SW_EXITINFO1, into the scratch area.
    case mmioRead(gpa: UInt64, length: UInt64, scratch: GHCBScratchArea)
    /// MMIO write of SW_EXITINFO2 bytes from the scratch area.
    case mmioWrite(gpa: UInt64, length: UInt64, scratch: GHCBScratchArea)
    /// SVM_VMGEXIT_HV_FEATURES: the answer carries the feature bitmap in SW_EXITINFO2.
    case hypervisorFeatures
    /// SVM_VMGEXIT_TERM_REQUEST: SW_EXITINFO1[3:0] reason set, [11:4] reason code
    /// (uapi svm.h `SVM_VMGEXIT_TERM_REASON`). KVM ends the run with
    /// KVM_SYSTEM_EVENT_SEV_TERM; the guest gets no answer.
    case terminate(reasonSet: UInt8, reasonCode: UInt8)
    /// A page state change or a KVM hypercall, served by `GHCBExitHandler`.
    case conversion(GHCBExitRequest)
    /// An exit code KVM accepts that this module does not decode
    /// (`GHCBExitCode.acceptedButNotDecoded`); the runner answers it.
    case notDecoded(exitCode: UInt64)
}

/// Why an event gets no service.
public enum GHCBEventRefusal: Error, Sendable, Hashable {
    /// Answered with SW_EXITINFO1 = 2 and SW_EXITINFO2 = the code; the guest resumes.
    case malformed(GHCBMalformedInput)
    /// KVM_RUN fails with EINVAL and the guest never resumes.
    case vcpuStops(GHCBFatalInput)
}

/// Inputs for which KVM stops the vCPU instead of answering.
public enum GHCBFatalInput: Sendable, Hashable {
    /// A string IO count above INT_MAX, or count × size above INT_MAX
    /// (sev.c `sev_es_string_io`: `-EINVAL`).
    case stringCountTooLarge(count: UInt64, size: Int)
    /// SVM_VMGEXIT_UNSUPPORTED_EVENT: the guest reports a #VC it could not handle
    /// (sev.c `sev_handle_vmgexit`: `-EINVAL`).
    case unsupportedEvent(exitInfo1: UInt64, exitInfo2: UInt64)
}
