/// TDCALL as the guest issues it (66 0F 01 CC), decoded for a host that traps it
/// and so stands in for both the TDX module and KVM.
public enum TDCall {
    /// Leaf numbers from Linux asm/shared/tdx.h and intel/tdx-module `tdx_api_defs.h`.
    public enum Leaf: UInt16, Sendable, CaseIterable {
        case vpVMCall = 0
        case vpInfo = 1
        case vpVEInfoGet = 3
        case memPageAccept = 6
    }

    public static let success: UInt64 = 0
    /// `TDX_OPERAND_INVALID`; bits 31:0 name the operand (RAX 0, RCX 1).
    public static let operandInvalid: UInt64 = 0xC000_0100_0000_0000
    public static let operandRAX: UInt64 = 0
    public static let operandRCX: UInt64 = 1
    /// `TDX_NO_VALID_VE_INFO`: TDG.VP.VEINFO.GET with no #VE pending (tdg_vp_veinfo_get.c).
    public static let noValidVEInfo: UInt64 = 0xC000_0704_0000_0000

    /// TDG.VP.VMCALL's RCX: GPR mask [15:0], XMM mask [31:16], reserved [63:32].
    /// RAX (bit 0), RCX (bit 1) and RSP (bit 4) may not be exposed
    /// (intel/tdx-module `tdg_vp_vmcall.c`).
    public static let forbiddenGPRMask: UInt64 = (1 << 0) | (1 << 1) | (1 << 4)

    /// Not modelled: the module's #GP for a TDCALL outside 64-bit mode (the runner
    /// sees the mode itself) and its extra RBP check for TDs configured with
    /// NO_RBP_MOD, which this host never configures.
    ///
    /// Decodes RAX the way the TDX module's TDCALL dispatcher does
    /// (`tdx_td_dispatcher.c`): leaf [15:0], version [23:16], bits 63:24 reserved.
    /// Reserved bits, a non-zero version (only leaves this host does not serve have
    /// versions) and leaves this host does not serve all answer
    /// TDX_OPERAND_INVALID naming RAX, the status the module gives unknown leaves.
    public static func decode(_ registers: TDCallRegisters) -> TDCallRequest {
        let invalidLeaf = TDCallRequest.failed(status: operandInvalid | operandRAX)
        guard registers.rax >> 16 == 0, let leaf = Leaf(rawValue: UInt16(registers.rax)) else {
            return invalidLeaf
        }
        switch leaf {
        case .vpInfo:
            return .vpInfo
        case .vpVEInfoGet:
            return .veInfoGet
        case .memPageAccept:
            return .memPageAccept(pageInfo: registers.rcx)
        case .vpVMCall:
            guard registers.rcx & forbiddenGPRMask == 0, registers.rcx >> 32 == 0 else {
                return .failed(status: operandInvalid | operandRCX)
            }
            let exposedMask = UInt16(truncatingIfNeeded: registers.rcx)
            return .vmcall(TDVMCall(exposed: exposedView(of: registers, mask: exposedMask)), exposedMask: exposedMask)
        }
    }

    /// The registers as the VMM sees them: unexposed ones read as zero, as the TDX
    /// module clears them before the TD exit (`copy_gprs_data_from_td_to_vmm`).
    public static func exposedView(of registers: TDCallRegisters, mask: UInt16) -> TDCallRegisters {
        var view = TDCallRegisters()
        for index in 2..<16 where mask & (1 << UInt16(index)) != 0 {
            view[gpr: index] = registers[gpr: index]
        }
        return view
    }
}

/// A decoded TDCALL.
public enum TDCallRequest: Sendable, Hashable {
    case vmcall(TDVMCall, exposedMask: UInt16)
    case vpInfo
    /// TDG.VP.VEINFO.GET: the virtualization-exception information of the last #VE.
    case veInfoGet
    /// TDG.MEM.PAGE.ACCEPT with its RCX page-info operand, left to the runner.
    case memPageAccept(pageInfo: UInt64)
    /// The TDCALL fails before reaching the VMM; RAX gets this status.
    case failed(status: UInt64)
}
