/// The TDG.VP.INFO answer (TDCALL leaf 1) a trapping host gives in the TDX
/// module's place (intel/tdx-module `tdg_vp_info.c`; edk2 `TDCALL_INFO_RETURN_DATA`).
public struct TDXVPInfo: Sendable, Hashable {
    public var width: TDXGuestPhysicalAddressWidth
    /// TD ATTRIBUTES, returned in RDX.
    public var attributes: UInt64
    public var vcpuCount: UInt32
    public var maxVCPUCount: UInt32
    public var vcpuIndex: UInt32
    /// R10 bit 0: TDG.SYS.RD is available.
    public var sysRdAvailable: Bool

    public init(
        width: TDXGuestPhysicalAddressWidth, attributes: UInt64 = 0, vcpuCount: UInt32 = 1,
        maxVCPUCount: UInt32 = 1, vcpuIndex: UInt32 = 0, sysRdAvailable: Bool = false
    ) {
        self.width = width
        self.attributes = attributes
        self.vcpuCount = vcpuCount
        self.maxVCPUCount = maxVCPUCount
        self.vcpuIndex = vcpuIndex
        self.sysRdAvailable = sysRdAvailable
    }

    /// RAX = TDX_SUCCESS, RCX = GPAW in [5:0], RDX = attributes, R8 = vCPU count in
    /// [31:0] and maximum in [63:32], R9 = this vCPU's index, R10 = available
    /// commands, R11 = 0 (reserved).
    public func apply(to registers: inout TDCallRegisters) {
        registers.rax = TDCall.success
        registers.rcx = UInt64(width.rawValue)
        registers.rdx = attributes
        registers.r8 = UInt64(vcpuCount) | (UInt64(maxVCPUCount) << 32)
        registers.r9 = UInt64(vcpuIndex)
        registers.r10 = sysRdAvailable ? 1 : 0
        registers.r11 = 0
    }
}
