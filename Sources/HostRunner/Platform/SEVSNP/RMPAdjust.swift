import GuestPhysical
import KVM

/// RMPADJUST as SNP hardware executes it for this runner's guests, which all run at VMPL0
/// (no SVSM): rAX the GVA of the page, walked through the guest's tables as PVALIDATE's; RCX
/// bit 0 the page size; RDX bits 7:0 the target VMPL, 15:8 its permission mask, bit 16 VMSA.
/// Its answer in RAX (AMD APM vol. 3, RMPADJUST; the status values are PVALIDATE's, edk2
/// MdePkg/Include/Library/BaseLib.h and Linux asm/sev.h): 0 success, FAIL_INPUT 1 (reserved
/// bits, a misaligned page, a VMPL above 3), FAIL_PERMISSION 2 (a target VMPL not above the
/// current one, VMPL0; or a page the guest has not validated), FAIL_SIZEMISMATCH 6 (a 2 MiB
/// request: this runner's RMP has 4 KiB entries only, as PVALIDATE's). The permissions are
/// not kept: no lower VMPL ever runs here. Firmware uses it as a VMPL0 test
/// (OvmfPkg SecSnpSystemRamValidate; Linux svsm_setup_ca).
enum RMPAdjust {
    static let success: UInt64 = 0
    static let failInput: UInt64 = 1
    static let failPermission: UInt64 = 2
    static let failSizeMismatch: UInt64 = 6
    static let highestVMPL: UInt64 = 3
    /// RDX bits that are not the VMPL (7:0), the permission mask (15:8) or VMSA (16).
    static let reservedRDX: UInt64 = ~0x1_FFFF
    static let currentVMPL: UInt64 = 0

    static func serve(_ request: inout TrappedRequest, vcpu: Int) -> TrappedOutcome {
        let machine = request.machine, sregs = request.sregs, regs = request.regs
        let at = machine.symbolize(request.pc)
        let gva = regs.rax, rdx = regs.rdx, large = regs.rcx & 1 != 0
        guard let gpa = GuestPageWalk.translate(gva, cr3: sregs.cr3, memory: machine.memory, encryptionMask: SEVSNPPlatform.cBit) else {
            return .stopped(.platformStopped("RMPADJUST of GVA \(hex(gva)), which the guest's page tables do not map (#PF on hardware), at \(at)"))
        }
        let vmpl = rdx & 0xFF
        let answer: UInt64
        if rdx & reservedRDX != 0 || regs.rcx & ~1 != 0 || vmpl > highestVMPL || gpa & (large ? (2 << 20) - 1 : 0xFFF) != 0 {
            answer = failInput
        } else if vmpl <= currentVMPL {
            answer = failPermission
        } else if large {
            answer = failSizeMismatch
        } else if let page = machine.service.page(at: gpa), page.state == .private, page.acceptance == .accepted {
            answer = success
        } else {
            answer = failPermission
        }
        request.regs.rax = answer
        request.events.append(
            .served(
                vcpu: vcpu, interface: .sevSNP, request: .rmpadjust(gpa: gpa, targetVMPL: vmpl, at: at),
                answer: answer == success ? "success (the guest runs at VMPL0)" : "RAX \(answer)"))
        return .completed
    }
}
