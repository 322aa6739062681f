import GuestPhysical
import KVM

/// What the CPUID instruction really returns in a vCPU given `entries` with KVM_SET_CPUID2.
/// A VMM fills the SNP CPUID page with what the vCPU will see; on most KVM hosts that is the
/// table itself, but some backends answer feature leaves from the hardware instead (on this
/// kvm_pvm host leaves 1, 7 and 0xD differ: docs/host-findings.md). So the runner asks a
/// throw-away vCPU: for each entry, real mode at GPA 0 runs `cpuid; hlt` with EAX/ECX set
/// to the entry's leaf and subleaf, and the registers at the HLT exit are the answer.
/// `probes` (default: `entries`) are the leaves asked, e.g. ones left out of `entries`, to see
/// what the vCPU answers for a leaf it was not given.
enum ObservedCPUID {
    static func observe(system: KVMSystem, entries: [CPUIDEntry], probes: [CPUIDEntry]? = nil) throws(RunError) -> [CPUIDEntry] {
        do {
            let vm = try system.createVM(type: .default)
            let page = try MemoryMapping(size: 4096)
            let code: [UInt8] = [0x0F, 0xA2, 0xF4] // cpuid; hlt
            // SAFETY: three bytes at the start of a 4096-byte mapping this function owns.
            for (offset, byte) in code.enumerated() { page.base.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self) }
            try vm.setUserMemoryRegion(slot: 0, guestPhysicalAddress: 0, size: 4096, userspaceAddress: page.userspaceAddress)
            let vcpu = try vm.createVCPU(id: 0)
            try vcpu.setCPUID(entries)
            try vcpu.modifySpecialRegisters { sregs in
                sregs.cs.base = 0
                sregs.cs.selector = 0
            }
            var observed: [CPUIDEntry] = []
            for entry in probes ?? entries {
                var regs = Registers()
                regs.rip = 0
                regs.rax = UInt64(entry.function)
                regs.rcx = UInt64(entry.index)
                regs.rflags = 0x2
                try vcpu.setRegisters(regs)
                let exit = try vcpu.run()
                guard case .hlt = exit else {
                    throw RunError.hostUnavailable(
                        "observing CPUID leaf \(hex(entry.function)).\(entry.index): the probe vCPU exited with \(exit) instead of HLT")
                }
                let result = try vcpu.getRegisters()
                var seen = entry
                seen.eax = UInt32(truncatingIfNeeded: result.rax)
                seen.ebx = UInt32(truncatingIfNeeded: result.rbx)
                seen.ecx = UInt32(truncatingIfNeeded: result.rcx)
                seen.edx = UInt32(truncatingIfNeeded: result.rdx)
                observed.append(seen)
            }
            return observed
        } catch let error as KVMError {
            throw .kvm(error)
        } catch let error as RunError {
            throw error
        } catch {
            throw .hostUnavailable("\(error)")
        }
    }
}
