import GuestPhysical
import KVM

/// Raw accesses to a GPA with no RAM behind it (KVM_EXIT_MMIO outside guest memory). Under
/// `--platform ghcb` and `tdx` the access does not reach the VMM's devices: the platform
/// answers it as its hardware does under KVM (`PlatformVCPU.mmioIntercept`: SEV-SNP #VC NPF,
/// TDX #VE EPT violation, or the guest's end for a private GPA). Elsewhere the run stops
/// naming the GPA, as it always has.
extension VCPULoop {
    /// The access is cancelled first, as an access the views stopped is
    /// (`VCPULoop+Views`): on this host a read exits before it retires (RIP at it), so it is
    /// completed with immediate_exit and the registers put back; a write exits after KVM's
    /// emulator retired it (RIP past it, its bytes in the exit), so RIP is put back at its
    /// start (`FaultingAccess.instructionStart`). Either way it never happened, and the
    /// exception is taken at the instruction, naming the linear address where it is found.
    func outsideMemory(_ address: ViewAddress, isWrite: Bool, data: ExitBytes, views: GuestViews?) -> VCPUFinish? {
        guard guest.interceptsMMIO else { return .stopped(.unmappedAccess(gpa: address.raw, isWrite: isWrite, at: location())) }
        let written: [UInt8]? = isWrite ? Array(data.bytes) : nil
        do {
            try cancelAccess(restoringRegisters: !isWrite)
        } catch {
            return .stopped(.hostError("cancelling the access at \(hex(address.raw)): \(error)"))
        }
        if control.timedOut { return .stopped(.timeout(after: control.timeout, at: location())) }
        // The GPA as the guest's tables map it: SNP's C-bit is dropped from them, TDX's shared
        // bit is an address bit to the TD.
        let encryptionMask = views.map { $0.bitMeansPrivate ? $0.viewBit : 0 } ?? 0
        let (at, linear) = locateAccess(walked: address.raw & ~encryptionMask, written: written, encryptionMask: encryptionMask, at: location())
        let access = InterceptedMMIO(address: address, size: data.count, isWrite: isWrite, linear: linear, at: at)
        guard let fault = guest.mmioIntercept(access) else {
            return .stopped(.hostError("the platform intercepts MMIO but gave no answer for a \(access.words)"))
        }
        return deliver(fault)
    }
}
