import GuestPhysical
import KVM
import Payload

/// SEV hardware walks a guest's page tables as private whatever C-bit CR3 carries (Linux
/// Documentation/arch/x86/amd-memory-encryption.rst: "instruction pages and guest page tables
/// are always treated as private"), and OVMF's reset vector loads CR3 without it. This runner
/// reaches private memory only through the C=1 view, so KVM's walk of such a CR3 finds the
/// shared view closed and the vCPU triple-faults. So, for a firmware volume on SEV, the vCPU
/// is single-stepped while paging is off (a few thousand instructions of the reset vector)
/// and, on the step that turns paging on, CR3 gets the C-bit: the walk the hardware would
/// make. The guest can see the bit if it reads CR3 back; the run records that it was added.
extension VCPULoop {
    func startWatchingForPaging() -> VCPUFinish? {
        guard machine.board != nil, machine.platform.unpagedAccessesArePrivate else { return nil }
        do {
            try vcpu.setHardwareBreakpoints(machine.armedSites, singleStep: true)
            watchingForPaging = true
            return nil
        } catch {
            return .stopped(.hostError("single-stepping the firmware until it turns paging on: \(error)"))
        }
    }

    /// One single step while paging is off: goes on stepping until CR0.PG is set.
    func pagingStep() -> VCPUFinish? {
        do {
            var sregs = try vcpu.getSpecialRegisters()
            guard sregs.cr0 & BootState.cr0Paging != 0 else { return nil }
            watchingForPaging = false
            try vcpu.setHardwareBreakpoints(machine.armedSites, singleStep: machine.options.catchRawCPUID)
            let bit = machine.platform.pageTableEncryptionBit
            guard sregs.cr3 & bit == 0 else { return nil }
            let before = sregs.cr3
            sregs.cr3 |= bit
            try vcpu.setSpecialRegisters(sregs)
            recorder.pending.append(
                .served(
                    vcpu: index, interface: .sevSNP, request: .privatePageTableRoot(cr3: before, at: location()),
                    answer: "CR3 \(hex(sregs.cr3)): the tables are walked as private, as SEV hardware walks them"))
            return nil
        } catch {
            return .stopped(.hostError("turning paging on for the firmware: \(error)"))
        }
    }
}

extension VCPULoop {
    /// A firmware volume's request instruction where KVM's emulator gave up on it (PVALIDATE,
    /// RMPADJUST, TDCALL on kvm_pvm, `FirmwareRequestSites`): served as at an armed site. nil
    /// when the bytes at RIP are no request (the emulation failure stands).
    func serveAtEmulationFailure() -> VCPUFinish?? {
        guard machine.board != nil, let regs = try? vcpu.getRegisters(), let sregs = try? vcpu.getSpecialRegisters() else { return nil }
        let pc = sregs.cs.base &+ regs.rip
        let bytes = GuestPageWalk.codeBytes(
            at: pc, count: RequestInstruction.longest, sregs: sregs, memory: machine.memory,
            encryptionMask: machine.platform.pageTableEncryptionBit)
        // SAFETY: the buffer is the array's own storage, read only inside the closure.
        guard let instruction = bytes.withUnsafeBytes({ RequestInstruction(bytes: $0) }) else { return nil }
        return .some(serveTrapped(instruction, at: pc, sregs: sregs))
    }
}
