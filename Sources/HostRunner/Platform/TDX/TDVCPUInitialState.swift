import CKVM
import KVM
import Payload

/// The state a TD vCPU starts in, which the TDX module sets and the VMM cannot change: 32-bit
/// protected mode at the reset vector, not real mode (tdx-module td_vmcs_init.c
/// td_vmcs_migrated_state_init_map and td_vmcs_non_migrated_state_init_map; tdh_vp_init.c
/// init_vcpu_gprs_and_registers). TDVF's reset vector tests CR0.PE to tell it is a TD
/// (OvmfPkg ResetVector Main.asm).
enum TDVCPUInitialState {
    /// CR0: PE | NE.
    static let cr0: UInt64 = 0x21
    /// CR4: MCE (VMXE, also set there, is the module's, not the guest's).
    static let cr4: UInt64 = 0x40
    /// IA32_EFER 0x901 (SCE, LME, NXE): long mode enabled, not active until paging is on.
    static let efer: UInt64 = 0x901
    static let rip: UInt64 = 0xFFFF_FFF0
    // Segments: flat 4 GiB, code access rights 0xC09B, data 0xC093 (`BootState.loadFlatSegments`).

    /// Sets vCPU `index`'s registers as TDH.VP.INIT leaves them: RBX the guest's MAXPA (its
    /// GPAW), RCX and R8 the VMM's parameter (QEMU passes the TD HOB's GPA, tdx.c
    /// tdx_post_init_vcpus), RDX CPUID(1).EAX, RSI the vCPU index, the rest zero.
    static func apply(to vcpu: VCPU, index: Int, gpaw: UInt8, hobAddress: UInt64, cpuid: [CPUIDEntry]) throws(KVMError) {
        var sregs = try vcpu.getSpecialRegisters()
        sregs.cr0 = cr0
        sregs.cr4 = cr4
        sregs.efer = efer
        BootState.loadFlatSegments(&sregs, codeSelector: 0, dataSelector: 0, longMode: false)
        try vcpu.setSpecialRegisters(sregs)
        var regs = Registers()
        regs.rip = rip
        regs.rflags = 0x2
        regs.rbx = UInt64(gpaw)
        regs.rcx = hobAddress
        regs.r8 = hobAddress
        regs.rdx = UInt64(cpuid.first { $0.function == 1 }?.eax ?? 0)
        regs.rsi = UInt64(index)
        try vcpu.setRegisters(regs)
    }
}
