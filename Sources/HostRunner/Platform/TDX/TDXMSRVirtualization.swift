import KVM

/// What the TDX module does with a TD's raw RDMSR/WRMSR (Intel TDX Module Base Architecture
/// Specification, "MSR Virtualization"; the module's own table, intel/tdx-module
/// include/auto_gen/msr_config_lookup.c, applied by src/td_dispatcher/vm_exits/td_msr_access.c
/// rd_wr_msr_generic_case):
/// - an MSR whose bitmap bit is fixed to 0 runs natively, without an exit;
/// - one the module handles itself (virtualized: MISC_ENABLE and ARCH_CAPABILITIES reads,
///   the VMX capability reads, DEBUGCTL, EFER and XSS writes);
/// - #GP(0) for those the table says so (SGX, SMM, performance monitoring and the XFAM
///   features a TD created without them lacks: PT, CET, ULI, LBR, PKS, TSX, UMWAIT, XFD);
/// - #VE (exit reason 31 for RDMSR, 32 for WRMSR) for the rest, and for every MSR the table
///   does not list or the MSR bitmaps do not cover (0–0x1FFF, 0xC0000000–0xC0001FFF):
///   "access to any MSR not in lookup table results in a #VE" (REDUCE_VE, which turns these
///   into #GP, is off for this runner's TDs).
///
/// Native and module-handled accesses keep today's behaviour here (KVM answers them, the
/// module's virtual values are not modelled); #GP and #VE are the module's, delivered at
/// the instruction, which has not executed.
struct TDXMSRVirtualization: RawMSRRule {
    enum Action: Equatable {
        case native
        case module
        case generalProtection
        case virtualizationException
    }

    /// One row of the table: an inclusive MSR range and the read and write actions.
    struct Entry {
        let first: UInt32
        let last: UInt32
        let read: Action
        let write: Action
    }

    private static func row(_ first: UInt32, _ last: UInt32? = nil, _ read: Action, _ write: Action) -> Entry {
        Entry(first: first, last: last ?? first, read: read, write: write)
    }

    /// The module's table, in address order, for a TD without PERFMON and without the
    /// optional XFAM features (dynamic bits resolved as the module resolves them then).
    static let table: [Entry] = {
        let n = Action.native, m = Action.module, gp = Action.generalProtection, ve = Action.virtualizationException
        return [
            row(0x10, nil, n, ve), // IA32_TIME_STAMP_COUNTER
            row(0x48, 0x49, n, n), // IA32_SPEC_CTRL, IA32_PRED_CMD
            row(0x87, nil, ve, ve), // IA32_MKTME_PARTITIONING
            row(0x8C, 0x8F, gp, gp), // IA32_SGXLEPUBKEYHASHx
            row(0x98, 0x9B, gp, gp), // WBINVDP, WBNOINVDP, INTR_PENDING, SMM_MONITOR_CTL
            row(0x9E, nil, gp, gp), // IA32_SMBASE
            row(0xBC, nil, n, ve), // IA32_MISC_PACKAGE_CTLS
            row(0xBD, nil, m, n), // IA32_XAPIC_DISABLE_STATUS
            row(0xC1, 0xC8, gp, gp), // IA32_PMCx
            row(0xE1, nil, gp, gp), // IA32_UMWAIT_CONTROL
            row(0x10A, nil, m, n), // IA32_ARCH_CAPABILITIES
            row(0x10B, nil, n, n), // IA32_FLUSH_CMD
            row(0x122, nil, gp, gp), // IA32_TSX_CTRL
            row(0x174, 0x176, n, n), // IA32_SYSENTER_CS/ESP/EIP
            row(0x186, 0x18D, gp, gp), // IA32_PERFEVTSELx
            row(0x195, nil, gp, gp), // IA32_OVERCLOCKING_STATUS
            row(0x1A0, nil, m, ve), // IA32_MISC_ENABLE
            row(0x1A6, 0x1A7, gp, gp), // MSR_OFFCORE_RSPx
            row(0x1C4, 0x1C5, gp, gp), // IA32_XFD, IA32_XFD_ERR
            row(0x1D9, nil, m, m), // IA32_DEBUGCTL
            row(0x1F8, 0x1FA, ve, ve), // IA32_PLATFORM_DCA_CAP, CPU_DCA_CAP, DCA_0_CAP
            row(0x276, nil, gp, gp), // MSR_SLAM_ENABLE
            row(0x277, nil, n, n), // IA32_PAT
            row(0x309, 0x310, gp, gp), // IA32_FIXED_CTRx
            row(0x329, nil, gp, gp), // IA32_PERF_METRICS
            row(0x345, nil, m, gp), // IA32_PERF_CAPABILITIES
            row(0x38D, 0x392, gp, gp), // IA32_FIXED_CTR_CTRL, IA32_PERF_GLOBAL_*
            row(0x3F1, 0x3F2, gp, gp), // IA32_PEBS_ENABLE, MSR_PEBS_MATRIX_VECT
            row(0x3F6, 0x3F7, gp, gp), // MSR_PEBS_LD_LATENCY, MSR_PEBS_FRONTEND
            row(0x480, nil, m, gp), // IA32_VMX_BASIC
            row(0x481, 0x484, ve, gp), // IA32_VMX_PINBASED/PROCBASED/EXIT/ENTRY_CTLS
            row(0x485, 0x489, m, gp), // IA32_VMX_MISC, CR0/CR4_FIXED0/1
            row(0x48A, nil, ve, gp), // IA32_VMX_VMCS_ENUM
            row(0x48B, 0x492, m, gp), // IA32_VMX_PROCBASED_CTLS2 … IA32_VMX_PROCBASED_CTLS3
            row(0x4C1, 0x4C8, gp, gp), // IA32_A_PMCx
            row(0x500, nil, gp, gp), // IA32_SGX_SVN_STATUS
            row(0x560, 0x561, gp, gp), // IA32_RTIT_OUTPUT_BASE, _MASK_PTRS
            row(0x570, 0x572, gp, gp), // IA32_RTIT_CTL, _STATUS, _CR3_MATCH
            row(0x580, 0x587, gp, gp), // IA32_RTIT_ADDRn_A/B
            row(0x600, nil, n, n), // IA32_DS_AREA
            row(0x6A0, nil, gp, gp), // IA32_U_CET
            row(0x6A2, nil, gp, gp), // IA32_S_CET
            row(0x6A4, 0x6A8, gp, gp), // IA32_PL0–3_SSP, IA32_INTERRUPT_SSP_TABLE_ADDR
            row(0x6E0, nil, ve, ve), // IA32_TSC_DEADLINE
            row(0x6E1, nil, gp, gp), // IA32_PKRS
            row(0x800, 0x801, gp, gp), // reserved x2APIC
            row(0x804, 0x807, gp, gp), // reserved x2APIC
            row(0x808, 0x80C, n, n), // x2APIC TPR, (0x809), PPR, EOI, (0x80C): APIC virtualization
            row(0x80E, nil, n, n),
            row(0x810, 0x827, n, n), // x2APIC ISR, TMR, IRR
            row(0x829, 0x82E, gp, gp), // reserved x2APIC
            row(0x831, nil, gp, gp), // reserved x2APIC
            row(0x83F, nil, n, n), // x2APIC SELF_IPI
            row(0x840, 0x8FF, gp, gp), // reserved x2APIC
            row(0x981, 0x984, ve, ve), // IA32_TME_CAPABILITY, _ACTIVATE, _EXCLUDE_MASK/BASE
            row(0x985, 0x98A, gp, gp), // IA32_UINTR_*
            row(0xC80, nil, n, ve), // IA32_DEBUG_INTERFACE
            row(0xD90, nil, gp, gp), // IA32_BNDCFGS
            row(0xD93, nil, gp, gp), // IA32_PASID
            row(0xDA0, nil, n, m), // IA32_XSS
            row(0x1200, 0x12FF, gp, gp), // IA32_LBR_INFO
            row(0x14CE, 0x14CF, gp, gp), // IA32_LBR_CTL, IA32_LBR_DEPTH
            row(0x1500, 0x16FF, gp, gp), // IA32_LBR_x_FROM_IP, _TO_IP
            row(0x1B01, nil, n, n), // IA32_UARCH_MISC_CTL
            row(0xC000_0080, nil, n, m), // IA32_EFER
            row(0xC000_0081, 0xC000_0082, n, n), // IA32_STAR, IA32_LSTAR
            row(0xC000_0084, nil, n, n), // IA32_FMASK
            row(0xC000_0100, 0xC000_0103, n, n), // FS_BASE, GS_BASE, KERNEL_GS_BASE, TSC_AUX
        ]
    }()

    /// The row holding `index` (a binary search: the table is ordered and its rows disjoint,
    /// and a run's MSR filter asks for every MSR of the bitmaps once).
    static func action(_ index: UInt32, isWrite: Bool) -> Action {
        var low = 0, high = table.count
        while low < high {
            let middle = (low + high) / 2
            if table[middle].last < index { low = middle + 1 } else { high = middle }
        }
        guard low < table.count, table[low].first <= index else { return .virtualizationException }
        return isWrite ? table[low].write : table[low].read
    }

    private static let builtFilter = TDXMSRVirtualization().buildFilter()
    var filter: MSRFilter { Self.builtFilter }

    func reachesKVM(_ index: UInt32, isWrite: Bool) -> Bool {
        switch Self.action(index, isWrite: isWrite) {
        case .native, .module: true
        case .generalProtection, .virtualizationException: false
        }
    }
}
