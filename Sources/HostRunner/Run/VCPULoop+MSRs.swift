import GuestPhysical
import KVM

/// Raw RDMSR/WRMSR on a platform that intercepts them (SEV-SNP, TDX): the run's MSR filter
/// makes each access its `RawMSRRule` keeps from KVM exit to user space, where it never
/// reaches an MSR; the platform's exception is delivered at the instruction instead
/// (`PlatformVCPU.msrIntercept`).
extension VCPULoop {
    /// A user-space MSR exit for an access the platform intercepts. KVM has not moved RIP:
    /// it retires the instruction (RDMSR: loads EDX:EAX from `data`) or injects #GP only when
    /// the next KVM_RUN completes the exit (Linux arch/x86/kvm/x86.c kvm_msr_user_space,
    /// complete_fast_rdmsr, complete_emulated_msr_access). So the exit is completed as a
    /// success with immediate_exit set and the registers put back: RIP at the RDMSR/WRMSR,
    /// RAX/RDX untouched, and the exception is taken there as on hardware. The instruction's
    /// bytes at RIP are checked first, so a RIP KVM had already moved shows as a host error.
    func interceptMSR(_ exit: MSRExit, isWrite: Bool) -> VCPUFinish? {
        let index = exit.index
        let name = isWrite ? "WRMSR" : "RDMSR"
        let value = isWrite ? exit.data : 0
        exit.error = 0
        let before: Registers, sregs: SpecialRegisters
        do {
            before = try vcpu.getRegisters()
            sregs = try vcpu.getSpecialRegisters()
        } catch {
            return .stopped(.hostError("reading the registers at the \(name) of \(hex(index)): \(error)"))
        }
        let opcode = isWrite ? InterceptedMSR.wrmsrOpcode : InterceptedMSR.rdmsrOpcode
        let bytes = GuestPageWalk.codeBytes(
            at: before.rip, count: InterceptedMSR.instructionLength, sregs: sregs, memory: machine.memory,
            encryptionMask: machine.platform.pageTableEncryptionBit)
        guard bytes == opcode else {
            return .stopped(.hostError("an \(name) exit for \(hex(index)) at \(location()), but no \(name) there"))
        }
        do {
            vcpu.kicker.kick() // not in KVM_RUN: only sets immediate_exit
            _ = try vcpu.run()
            try vcpu.setRegisters(before)
        } catch {
            return .stopped(.hostError("cancelling the \(name) of \(hex(index)): \(error)"))
        }
        if control.timedOut { return .stopped(.timeout(after: control.timeout, at: location())) }
        let access = InterceptedMSR(index: index, isWrite: isWrite, value: value, at: machine.symbolize(sregs.cs.base &+ before.rip))
        guard let fault = guest.msrIntercept(access) else {
            return .stopped(.hostError("the platform intercepts \(access.words) but gave no answer"))
        }
        return deliver(fault)
    }
}
