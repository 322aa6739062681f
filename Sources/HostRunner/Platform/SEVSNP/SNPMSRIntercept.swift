import GuestABI
import KVM

/// SEV-SNP's answer to a raw RDMSR/WRMSR. KVM runs an SEV-ES/SNP guest with every MSR
/// intercepted except those the hardware context-switches or lets the guest own; an
/// intercepted access raises #VC (vector 29) with the SVM exit code SVM_EXIT_MSR 0x7C as its
/// error code, taken at the instruction, which has not executed (AMD APM vol. 2 §15.35 "#VC
/// Exception"; Linux arch/x86/include/uapi/asm/svm.h SVM_EXIT_MSR; the guest's handler
/// forwards it as a GHCB MSR NAE event, arch/x86/coco/sev/vc-handle.c vc_handle_msr).
///
/// The accesses that do not exit are KVM's (arch/x86/kvm/svm/svm.c svm_vcpu_init_msrpm and
/// svm_recalc_msr_intercepts, arch/x86/kvm/svm/sev.c sev_es_recalc_msr_intercepts):
/// STAR/LSTAR/CSTAR/SFMASK, FS/GS/KERNEL_GS_BASE, SYSENTER_CS/ESP/EIP (ESP and EIP are
/// intercepted only for a guest that claims an Intel CPU), the GHCB MSR, EFER and PAT
/// (context-switched by hardware), TSC_AUX (V_TSC_AUX hardware), XSS (XSAVES guests),
/// SPEC_CTRL (V_SPEC_CTRL hardware), PRED_CMD writes, DEBUGCTL and the LBR MSRs (every SEV-ES
/// guest runs with LBR virtualization, sev.c svm_enable_lbrv), and SEV_STATUS, which no
/// hypervisor intercepts: OVMF's reset vector (OvmfPkg/ResetVector/Ia32/AmdSev.asm
/// CheckSevFeatures) reads it with a raw RDMSR while its only #VC handler serves CPUID alone
/// and terminates on anything else, and Linux's early boot reads it the same way
/// (arch/x86/mm/mem_encrypt_identity.c sme_enable). Those keep today's behaviour: KVM (or the
/// runner, for the GHCB MSR and SEV_STATUS) answers them.
struct SNPMSRIntercept: RawMSRRule {
    static let msrExitCode: UInt32 = 0x7C

    static let efer: UInt32 = 0xC000_0080
    /// STAR, LSTAR, CSTAR, SFMASK.
    static let syscallMSRs: ClosedRange<UInt32> = 0xC000_0081...0xC000_0084
    /// FS_BASE, GS_BASE, KERNEL_GS_BASE, TSC_AUX.
    static let segmentBasesAndTSCAux: ClosedRange<UInt32> = 0xC000_0100...0xC000_0103
    /// SYSENTER_CS, _ESP, _EIP.
    static let sysenter: ClosedRange<UInt32> = 0x174...0x176
    static let pat: UInt32 = 0x277
    static let xss: UInt32 = 0xDA0
    static let specCtrl: UInt32 = 0x48
    static let predCmd: UInt32 = 0x49
    /// DEBUGCTL, then LASTBRANCHFROMIP, LASTBRANCHTOIP, LASTINTFROMIP, LASTINTTOIP.
    static let debugCtlAndLBR: Set<UInt32> = [0x1D9, 0x1DB, 0x1DC, 0x1DD, 0x1DE]

    private static let builtFilter = SNPMSRIntercept().buildFilter()
    var filter: MSRFilter { Self.builtFilter }

    func reachesKVM(_ index: UInt32, isWrite: Bool) -> Bool {
        switch index {
        case GHCBMSRProtocol.msrIndex, SEVSNPPlatform.sevStatusMSR, Self.efer, Self.pat, Self.xss, Self.specCtrl: true
        case Self.syscallMSRs, Self.segmentBasesAndTSCAux, Self.sysenter: true
        case Self.predCmd: isWrite
        default: Self.debugCtlAndLBR.contains(index)
        }
    }

    static func fault(_ access: InterceptedMSR, vcpu: Int) -> AccessFault {
        .inject(
            vector: SEVSNPPlatform.vmmCommunicationException, errorCode: msrExitCode, cr2: nil,
            remembered: InjectedException(
                vector: UInt64(SEVSNPPlatform.vmmCommunicationException), cause: "MSR intercept: \(access.words), not executed"),
            served: access.served(vcpu: vcpu, interface: .sevSNP, answer: "#VC 0x7C (SVM_EXIT_MSR)"))
    }
}
