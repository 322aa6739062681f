/// TDG.VP.VMCALL subfunction numbers (R11 with R10 = 0).
///
/// Below 0x10000 a subfunction is the VMX exit reason of the instruction the guest
/// asks the VMM to emulate (Linux `arch/x86/include/uapi/asm/vmx.h`
/// `EXIT_REASON_*`; the GHCI names them Instruction.CPUID etc.); from 0x10000 they
/// are GHCI calls (Linux `arch/x86/include/asm/shared/tdx.h` `TDVMCALL_*`, edk2
/// `MdePkg/Include/IndustryStandard/Tdx.h`).
public enum TDVMCallSubfunction {
    public static let cpuid: UInt64 = 10
    public static let hlt: UInt64 = 12
    public static let io: UInt64 = 30
    public static let rdmsr: UInt64 = 31
    public static let wrmsr: UInt64 = 32
    /// #VE.RequestMMIO: the exit reason of an EPT violation.
    public static let requestMMIO: UInt64 = 48

    public static let getTdVmCallInfo: UInt64 = 0x10000
    public static let mapGPA: UInt64 = 0x10001
    public static let getQuote: UInt64 = 0x10002
    public static let reportFatalError: UInt64 = 0x10003
    public static let setupEventNotifyInterrupt: UInt64 = 0x10004
}

/// Instruction.IO and #VE.RequestMMIO direction in R13 (Linux arch/x86/coco/tdx/tdx.c
/// `PORT_READ` 0 / `PORT_WRITE` 1, `EPT_READ` 0 / `EPT_WRITE` 1).
public enum TDVMCallDirection: UInt64, Sendable {
    case read = 0
    case write = 1
}
