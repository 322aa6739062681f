/// SEV-SNP's answer to a raw port instruction: #VC (vector 29) with the SVM exit code as its
/// error code, SVM_EXIT_IOIO 0x7B, taken at the instruction (AMD APM vol. 2 §15.35 "#VC
/// Exception"; Linux arch/x86/include/uapi/asm/svm.h SVM_EXIT_IOIO; the guest's handler decodes
/// the instruction and forwards it as a GHCB IOIO NAE event, Linux arch/x86/coco/sev/vc-handle.c
/// vc_handle_ioio).
enum SNPPortIntercept {
    static let ioioExitCode: UInt32 = 0x7B

    static func fault(_ access: InterceptedPort, vcpu: Int) -> AccessFault {
        .inject(
            vector: SEVSNPPlatform.vmmCommunicationException, errorCode: ioioExitCode, cr2: nil,
            remembered: InjectedException(
                vector: UInt64(SEVSNPPlatform.vmmCommunicationException), cause: "IOIO intercept: \(access.words), not executed"),
            served: access.served(vcpu: vcpu, interface: .sevSNP, answer: "#VC 0x7B (SVM_EXIT_IOIO)"))
    }
}
