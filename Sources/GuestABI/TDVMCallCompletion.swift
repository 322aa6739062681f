/// What the host hands back for one TDG.VP.VMCALL: the status for R10 and, where the
/// call defines one, a value for R11 (MapGPA's resume address).
public struct TDVMCallCompletion: Sendable, Hashable {
    public var status: UInt64
    public var r11: UInt64?

    public init(status: UInt64, r11: UInt64? = nil) {
        self.status = status
        self.r11 = r11
    }

    /// KVM's answer to a standard subfunction it does not know (R11 untouched).
    public static let subfunctionUnsupported = TDVMCallCompletion(status: TDVMCallStatus.subfunctionUnsupported)

    /// The answer to a KVM hypercall made through TDG.VP.VMCALL: the hypercall's
    /// return value goes to R10 (tdx.c `complete_hypercall_exit`).
    public init(hypercallReturnValue: UInt64) {
        self.init(status: hypercallReturnValue)
    }

    /// Writes the answer into the guest's registers as the TDX module would on
    /// resuming it: RAX = TDX_SUCCESS (the TDCALL itself worked), and R10/R11 only
    /// if the guest exposed them; unexposed registers keep the guest's values.
    public func apply(to registers: inout TDCallRegisters, exposedMask: UInt16) {
        registers.rax = TDCall.success
        if exposedMask & (1 << 10) != 0 { registers.r10 = status }
        if let r11, exposedMask & (1 << 11) != 0 { registers.r11 = r11 }
    }
}
