/// SW_EXITCODE values of the NAE events this module decodes, and the others KVM's
/// `sev_es_validate_vmgexit` (arch/x86/kvm/svm/sev.c) accepts.
///
/// SVM exit codes from Linux `arch/x86/include/uapi/asm/svm.h` (edk2
/// `MdePkg/Include/Register/Amd/Ghcb.h` agrees); the 0x8000_xxxx software events
/// from the same header and the GHCB specification (AMD pub. 56421).
public enum GHCBExitCode {
    public static let readDR7: UInt64 = 0x27
    public static let writeDR7: UInt64 = 0x37
    public static let rdtsc: UInt64 = 0x6E
    public static let rdpmc: UInt64 = 0x6F
    public static let cpuid: UInt64 = 0x72
    public static let invd: UInt64 = 0x76
    public static let ioio: UInt64 = 0x7B
    public static let msr: UInt64 = 0x7C
    public static let vmmcall: UInt64 = 0x81
    public static let rdtscp: UInt64 = 0x87
    public static let wbinvd: UInt64 = 0x89
    public static let monitor: UInt64 = 0x8A
    public static let mwait: UInt64 = 0x8B
    /// The #VC error code of an MMIO access (a nested page fault); the guest turns it
    /// into MMIO_READ / MMIO_WRITE, never sends it as an event.
    public static let nestedPageFault: UInt64 = 0x400

    public static let mmioRead: UInt64 = 0x8000_0001
    public static let mmioWrite: UInt64 = 0x8000_0002
    public static let nmiComplete: UInt64 = 0x8000_0003
    public static let apHaltLoop: UInt64 = 0x8000_0004
    public static let apJumpTable: UInt64 = 0x8000_0005
    public static let pageStateChange: UInt64 = 0x8000_0010
    public static let guestRequest: UInt64 = 0x8000_0011
    public static let extendedGuestRequest: UInt64 = 0x8000_0012
    public static let apCreation: UInt64 = 0x8000_0013
    public static let hypervisorFeatures: UInt64 = 0x8000_FFFD
    public static let terminationRequest: UInt64 = 0x8000_FFFE
    public static let unsupportedEvent: UInt64 = 0x8000_FFFF

    /// Exit codes KVM validates and serves that this module leaves to the runner
    /// undecoded; any code neither here nor decoded is INVALID_EVENT.
    public static let acceptedButNotDecoded: Set<UInt64> = [
        readDR7, writeDR7, rdtsc, rdpmc, invd, rdtscp, wbinvd, monitor, mwait,
        nmiComplete, apHaltLoop, apJumpTable, guestRequest, extendedGuestRequest, apCreation,
    ]
}

/// SW_EXITINFO1 of the hypervisor's answer (Linux asm/sev-common.h
/// `GHCB_HV_RESP_*`; the GHCB specification names 0 and 1, KVM adds 2).
public enum GHCBResponse {
    public static let noAction: UInt64 = 0
    public static let issueException: UInt64 = 1
    public static let malformedInput: UInt64 = GHCBMalformedInput.exitInfo1

    /// SW_EXITINFO2 asking the guest to raise #GP: the event-injection format
    /// vector [7:0], type [10:8] = 3 (exception), valid bit 31 (edk2 Ghcb.h
    /// `GHCB_EVENT_INJECTION`; KVM svm.h `svm_vmgexit_inject_exception` with
    /// `SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT | X86_TRAP_GP`).
    public static let injectGeneralProtection: UInt64 = (1 << 31) | (3 << 8) | 13
}
