/// TDG.VP.VMCALL completion status, returned in R10 (Linux asm/shared/tdx.h
/// `TDVMCALL_STATUS_*`; td-shim `TdVmcallError` for GPA_INUSE).
public enum TDVMCallStatus {
    public static let success: UInt64 = 0
    public static let retry: UInt64 = 1
    public static let invalidOperand: UInt64 = 0x8000_0000_0000_0000
    public static let gpaInUse: UInt64 = 0x8000_0000_0000_0001
    public static let alignError: UInt64 = 0x8000_0000_0000_0002
    public static let subfunctionUnsupported: UInt64 = 0x8000_0000_0000_0003
}
