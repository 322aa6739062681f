/// The MSRs KVM emulates for a TD, which a TDVMCALL RDMSR/WRMSR (the guest's answer to the
/// #VE of an MSR the TDX module does not virtualize) reaches: exactly Linux
/// arch/x86/kvm/vmx/tdx.c tdx_has_emulated_msr's set, served as tdx_get_msr / tdx_set_msr
/// serve it. Anything else fails, and the TDVMCALL answers TDVMCALL_STATUS_INVALID_OPERAND
/// (tdx_complete_emulated_msr).
enum TDXEmulatedMSRs {
    static let apicBase: UInt32 = 0x1B
    static let featureControl: UInt32 = 0x3A
    static let efer: UInt32 = 0xC000_0080
    static let machineCheckCapabilities: UInt32 = 0x179
    static let machineCheckExtendedControl: UInt32 = 0x4D0
    /// MCG_CAP bit 27, MCG_LMCE_P; FEAT_CTL bit 0 (LOCKED) and bit 20 (LMCE_ENABLED); MCG_EXT_CTL
    /// bit 0 (LMCE_EN) (Linux asm/msr-index.h, arch/x86/include/asm/mce.h).
    static let localMachineCheckPresent: UInt64 = 1 << 27
    static let featureControlLocked: UInt64 = 1 << 0
    static let featureControlLMCEEnabled: UInt64 = 1 << 20
    static let extendedControlLMCEEnable: UInt64 = 1 << 0

    /// KVM_MAX_MCE_BANKS (arch/x86/include/asm/kvm_host.h): 32 banks of MC0_CTL…MCx_MISC (four
    /// MSRs each from 0x400) and of MCx_CTL2 (one each from 0x280).
    static let machineCheckBanks: UInt32 = 32

    /// tdx_has_emulated_msr. Its x2APIC exclusions are the registers the CPU virtualizes (TPR,
    /// PPR, EOI, ISR, TMR, IRR); the ISR/TMR/IRR ranges there are written X2APIC_MSR(APIC_ISR
    /// + APIC_ISR_NR), which shifts the 8 away, so each covers its first register only — as
    /// KVM does it, so this does too.
    static func isEmulated(_ index: UInt32) -> Bool {
        switch index {
        case 0x8B, // IA32_UCODE_REV
            0x10A, // IA32_ARCH_CAPABILITIES
            0x1FC, // IA32_POWER_CTL
            0x277, // IA32_CR_PAT
            0xFE, // MTRRcap
            0x200...0x26F, // MTRRphysBase0 … MTRRfix4K_F8000
            0x2FF, // MTRRdefType
            0x6E0, // IA32_TSC_DEADLINE
            0x1A0, // IA32_MISC_ENABLE
            0xCE, // PLATFORM_INFO
            0x140, // MISC_FEATURES_ENABLES
            apicBase, efer, featureControl,
            machineCheckCapabilities, 0x17A, 0x17B, // MCG_CAP, MCG_STATUS, MCG_CTL
            machineCheckExtendedControl,
            0x400...(0x400 + 4 * machineCheckBanks - 1), // MCx_CTL, _STATUS, _ADDR, _MISC
            0x280...(0x280 + machineCheckBanks - 1), // MCx_CTL2
            0x4B56_4D05: // MSR_KVM_POLL_CONTROL
            return true
        case 0x808, 0x80A, 0x80B, 0x810, 0x818, 0x820: // TPR, PPR, EOI, ISR0, TMR0, IRR0
            return false
        case 0x800...0x8FF:
            return true
        default:
            return false
        }
    }

    /// tdx_is_read_only_msr.
    static func isReadOnly(_ index: UInt32) -> Bool { index == apicBase || index == efer || index == featureControl }

    /// tdx_get_msr.
    static func read(_ index: UInt32, kvm: any HypervisorMSRs) -> UInt64? {
        switch index {
        case featureControl:
            return featureControlLocked | (hasLocalMachineCheck(kvm) ? featureControlLMCEEnabled : 0)
        case machineCheckExtendedControl:
            return hasLocalMachineCheck(kvm) ? kvm.read(index) : nil
        default:
            return isEmulated(index) ? kvm.read(index) : nil
        }
    }

    /// tdx_set_msr.
    static func write(_ index: UInt32, value: UInt64, kvm: any HypervisorMSRs) -> Bool {
        if index == machineCheckExtendedControl {
            guard hasLocalMachineCheck(kvm), value & ~extendedControlLMCEEnable == 0 else { return false }
            return kvm.write(index, value: value)
        }
        guard !isReadOnly(index), isEmulated(index) else { return false }
        return kvm.write(index, value: value)
    }

    /// vcpu->arch.mcg_cap & MCG_LMCE_P.
    private static func hasLocalMachineCheck(_ kvm: any HypervisorMSRs) -> Bool {
        (kvm.read(machineCheckCapabilities) ?? 0) & localMachineCheckPresent != 0
    }
}
