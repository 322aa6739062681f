/// SEV-SNP's answer to a raw access to a GPA with no RAM behind it.
///
/// C=0 (shared): KVM keeps MMIO caching on for SEV-ES and SNP guests, so such a GPA gets an
/// MMIO SPTE with reserved bits set in the nested page table (Linux arch/x86/kvm/mmu/spte.c
/// make_mmio_spte; arch/x86/kvm/svm/sev.c sev_hardware_setup drops SEV-ES support without
/// MMIO caching, because KVM cannot read such a guest's instruction stream). A nested page
/// fault with the reserved-bit error of an SEV-ES guest is not a #NPF exit but #VC (vector
/// 29) in the guest with the SVM exit code SVM_EXIT_NPF (0x400) as its error code, taken at
/// the instruction, which does not execute (AMD APM vol. 2 §15.35.5 "#VC Exception"; Linux
/// arch/x86/include/uapi/asm/svm.h SVM_EXIT_NPF). The hardware gives no address: the guest's
/// handler decodes the instruction and forwards it as a GHCB MMIO NAE event (Linux
/// arch/x86/coco/sev/vc-handle.c vc_handle_mmio; edk2 OvmfPkg CcExitVcHandler MmioExit).
///
/// C=1 as well: the nested page tables translate the GPA without the C-bit, which is no
/// address bit to them, so the same MMIO SPTE's reserved bits fault for a private access, and
/// the guest meets the same #VC. Firmware relies on it: OVMF's SEC programs the local APIC
/// through its C=1 identity map (InitializeApicTimer), and its #VC handler accepts an
/// encrypted MMIO access for exactly the local APIC page (edk2 OvmfPkg
/// CcExitVcHandler.c ValidateMmioMemory), so this is what QEMU/KVM give an SNP guest.
enum SNPMMIOIntercept {
    static let npfExitCode: UInt32 = 0x400

    static func fault(_ access: InterceptedMMIO, vcpu: Int) -> AccessFault {
        let view = access.address.raw & SEVSNPPlatform.cBit == 0 ? "C=0" : "C=1"
        return .inject(
            vector: SEVSNPPlatform.vmmCommunicationException, errorCode: npfExitCode, cr2: nil,
            remembered: InjectedException(
                vector: UInt64(SEVSNPPlatform.vmmCommunicationException), cause: "NPF (MMIO): a \(view) \(access.words), not executed"),
            served: access.served(vcpu: vcpu, interface: .sevSNP, answer: "#VC 0x400 (SVM_EXIT_NPF)"))
    }
}
