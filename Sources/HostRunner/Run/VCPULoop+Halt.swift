import KVM

/// A raw HLT on a platform that intercepts it (TDX: `PlatformVCPU.hltIntercept`).
extension VCPULoop {
    /// KVM_EXIT_HLT. KVM has already retired the HLT (F4) when it reports the exit (x86.c
    /// kvm_emulate_halt skips the instruction before it halts). Where the platform intercepts
    /// HLT, RIP goes back to it and the platform's exception is delivered there, as on hardware
    /// the instruction never ran; elsewhere the vCPU stays halted, and with no interrupt source
    /// here that ends the run.
    func serveHalt() -> VCPUFinish? {
        let halted = VCPUFinish.stopped(.halted(at: location()))
        guard let regs = try? vcpu.getRegisters(), let sregs = try? vcpu.getSpecialRegisters() else { return halted }
        let start = regs.rip &- 1
        guard codeByte(at: sregs.cs.base &+ start) == Self.hltOpcode,
            let fault = guest.hltIntercept(at: machine.symbolize(sregs.cs.base &+ start))
        else { return halted }
        do { try vcpu.modifyRegisters { $0.rip = start } } catch { return .stopped(.hostError("putting RIP back at the HLT: \(error)")) }
        return deliver(fault)
    }

    /// HLT (Intel SDM vol. 2 "HLT").
    static let hltOpcode: UInt8 = 0xF4
}
