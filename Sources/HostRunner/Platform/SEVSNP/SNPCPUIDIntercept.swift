import GuestPhysical

/// SEV-SNP's answer to a raw CPUID: #VC (vector 29) with error code SVM_EXIT_CPUID 0x72, taken
/// at the instruction, for every leaf. An SEV-ES or SNP guest's CPUID is always intercepted
/// (AMD APM vol. 2 §15.35.5 "#VC Exception"; KVM sets the CPUID intercept for every SVM guest,
/// svm.c init_vmcb, and for SEV-ES it becomes a #VC); Linux answers it in vc_handle_cpuid
/// (arch/x86/coco/sev/vc-handle.c) from the CPUID page or a GHCB CPUID NAE event.
enum SNPCPUIDIntercept {
    static let cpuidExitCode: UInt32 = 0x72

    static func fault(_ access: InterceptedCPUID, vcpu: Int) -> AccessFault {
        .inject(
            vector: SEVSNPPlatform.vmmCommunicationException, errorCode: cpuidExitCode, cr2: nil,
            remembered: InjectedException(
                vector: UInt64(SEVSNPPlatform.vmmCommunicationException), cause: "CPUID intercept: leaf \(hex(access.leaf)), not executed"),
            served: access.served(vcpu: vcpu, interface: .sevSNP, answer: "#VC 0x72 (SVM_EXIT_CPUID)"))
    }
}
