import GuestPhysical
import KVM

/// Raw CPUID caught as SEV-SNP and TDX hardware catches it (`RunOptions.catchRawCPUID`).
///
/// KVM answers CPUID inside KVM_RUN, so no exit ever shows the runner one. In this mode every
/// vCPU runs under KVM_GUESTDBG_SINGLESTEP (set up by `Machine`, kept on when a request site's
/// breakpoint is re-armed): each instruction ends in a debug exit with DR6.BS and RIP at the
/// next one, which `catchRawCPUID` reads through the guest's tables before it runs. A CPUID
/// the platform intercepts (`PlatformVCPU.cpuidIntercept`) is not executed; the platform's
/// exception is injected at it. The request sites stay armed: a step that lands on one reports
/// BS alone, and its breakpoint fires at the next KVM_RUN (`GuestDebugException.classify`).
///
/// What the mode does not see: the first instruction of an exception handler the runner
/// injected (KVM delivers the event and runs that instruction before the next step exit).
/// And the guest's own RFLAGS.TF: while KVM_GUESTDBG_SINGLESTEP is on, KVM hides TF from the
/// guest and from user space and drops it at the next emulated instruction (Linux
/// arch/x86/kvm/x86.c kvm_get_rflags, __kvm_set_rflags), so a guest that single-steps itself
/// cannot be run faithfully here: the runner stops it, with that reason, at the POPF or IRET
/// that would set TF.
extension VCPULoop {
    /// Looks at the instruction at RIP before it runs: a CPUID the platform intercepts gets
    /// its exception; a POPF/IRET that sets TF stops the run; anything else runs.
    func catchRawCPUID() -> VCPUFinish? {
        let regs: Registers, sregs: SpecialRegisters
        do {
            regs = try vcpu.getRegisters()
            sregs = try vcpu.getSpecialRegisters()
        } catch {
            return .stopped(.hostError("reading the registers for --catch-cpuid: \(error)"))
        }
        let pc = sregs.cs.base &+ regs.rip
        let mask = machine.platform.pageTableEncryptionBit
        let bytes = GuestPageWalk.codeBytes(
            at: pc, count: CPUIDInstruction.maximumLength, sregs: sregs, memory: machine.memory, encryptionMask: mask)
        if let length = CPUIDInstruction.length(bytes) {
            let access = InterceptedCPUID(
                leaf: UInt32(truncatingIfNeeded: regs.rax), subleaf: UInt32(truncatingIfNeeded: regs.rcx), length: length,
                at: machine.symbolize(pc))
            guard let fault = guest.cpuidIntercept(access) else { return nil }
            return deliver(fault)
        }
        if let offset = FlagsRestore.flagsOffset(bytes), setsTrapFlag(stackOffset: offset, regs: regs, sregs: sregs) {
            return .stopped(
                .platformStopped(
                    "the guest sets RFLAGS.TF at \(machine.symbolize(pc)) under --catch-cpuid: KVM hides and drops a guest's TF while it single-steps the vCPU (x86.c kvm_get_rflags), so its own single steps cannot be run faithfully in this mode; run it without --catch-cpuid"
                ))
        }
        return nil
    }

    /// Whether the RFLAGS image `stackOffset` bytes above RSP has TF set (read through the
    /// guest's tables; an unreadable stack is left to the instruction's own fault).
    private func setsTrapFlag(stackOffset: Int, regs: Registers, sregs: SpecialRegisters) -> Bool {
        let linear = sregs.ss.base &+ regs.rsp &+ UInt64(stackOffset)
        guard
            let gpa = GuestPageWalk.physicalAddress(
                ofLinear: linear, sregs: sregs, memory: machine.memory, encryptionMask: machine.platform.pageTableEncryptionBit),
            let flags = machine.memory.load(UInt16.self, at: gpa)
        else { return false }
        return UInt64(flags) & GuestDebugException.trapFlag != 0
    }
}
