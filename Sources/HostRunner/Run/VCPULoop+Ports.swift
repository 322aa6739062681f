import GuestPhysical
import KVM

/// Raw port instructions on a platform that intercepts them (SEV-SNP, TDX): they never reach
/// the device; the platform's exception is delivered at the instruction instead
/// (`PlatformVCPU.portIntercept`).
extension VCPULoop {
    /// KVM_EXIT_IO where the platform intercepts port I/O. KVM has not completed the access:
    /// an IN's data, and for its fast path an OUT's RIP advance, happen at the next KVM_RUN
    /// (Linux arch/x86/kvm/x86.c complete_fast_pio_in/out), while its emulator (every
    /// instruction on this host) has already moved RIP past an OUT. So the access is completed
    /// with immediate_exit set and the registers put back, RIP at the instruction's start
    /// (found by decoding at RIP and just before it, `PortInstruction.locate`): it never
    /// happened, and the exception is taken there as on hardware.
    func interceptPort(_ port: UInt16, isIn: Bool, size: Int) -> VCPUFinish? {
        let before: Registers, sregs: SpecialRegisters
        do {
            before = try vcpu.getRegisters()
            sregs = try vcpu.getSpecialRegisters()
        } catch {
            return .stopped(.hostError("reading the registers at the port access to \(hex(port)): \(error)"))
        }
        let mask = machine.platform.pageTableEncryptionBit
        let lookBehind = PortInstruction.maximumLength
        var behind = GuestPageWalk.codeBytes(
            at: before.rip &- UInt64(lookBehind), count: lookBehind, sregs: sregs, memory: machine.memory, encryptionMask: mask)
        if behind.count != lookBehind { behind = [] }
        let ahead = GuestPageWalk.codeBytes(
            at: before.rip, count: PortInstruction.maximumLength, sregs: sregs, memory: machine.memory, encryptionMask: mask)
        guard
            let (offset, instruction) = PortInstruction.locate(
                behind + ahead, lookBehind: behind.count, port: port, isIn: isIn, size: size, dx: UInt16(truncatingIfNeeded: before.rdx))
        else {
            return .stopped(.hostError("a port access to \(hex(port)) at \(location()), but no \(isIn ? "IN" : "OUT") of \(size) bytes there"))
        }
        let start = before.rip &+ UInt64(bitPattern: Int64(offset))
        do {
            vcpu.kicker.kick() // not in KVM_RUN: only sets immediate_exit
            _ = try vcpu.run()
            var restored = before
            restored.rip = start
            try vcpu.setRegisters(restored)
        } catch {
            return .stopped(.hostError("cancelling the port access to \(hex(port)): \(error)"))
        }
        if control.timedOut { return .stopped(.timeout(after: control.timeout, at: location())) }
        let access = InterceptedPort(port: port, instruction: instruction, at: machine.symbolize(start))
        guard let fault = guest.portIntercept(access) else {
            return .stopped(.hostError("the platform intercepts port I/O but gave no answer for \(access.words)"))
        }
        return deliver(fault)
    }
}
