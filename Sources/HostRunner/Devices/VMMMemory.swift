import GuestPhysical

/// Guest RAM as the VMM's device model reaches it when KVM hands it an MMIO access the guest
/// forwarded (a GHCB MMIO NAE event, TDVMCALL #VE.RequestMMIO) at a GPA that is RAM.
///
/// KVM does not look for RAM there: it offers the access to its in-kernel devices and then
/// exits with KVM_EXIT_MMIO (Linux arch/x86/kvm/x86.c kvm_sev_es_mmio_read/write for SEV-ES
/// and SNP, which sev.c sev_handle_vmgexit calls once setup_vmgexit_scratch has checked the
/// scratch area; arch/x86/kvm/vmx/tdx.c tdx_emulate_mmio, which refuses a private GPA and
/// strips the shared bit). QEMU's kvm_cpu_exec then reads or writes the GPA in its address
/// space (address_space_rw), and where that is RAM it copies from or into its own mapping of
/// the RAM block: the shared memory, never the private (guest_memfd) pages.
///
/// So a forwarded access reaches a page's shared memory whatever the page's state: the
/// shared view (TDX: the split backing at GPA | shared bit, whose content for a private page
/// is what survived the page going private — nothing, as the VMM discarded it). Where one
/// file serves both states (SEV-SNP here), a private page has no shared memory the VMM could
/// touch: reads give zeros (QEMU discards the shared memory of a page that goes private,
/// kvm_convert_memory → ram_block_discard_range) and writes are dropped (such a write would
/// land in memory the next conversion discards again).
struct VMMMemory {
    let memory: GuestMemory
    let ram: GPARange
    /// Where a RAM page's shared memory lives in `memory`: GPA | this (TDX's split backing);
    /// nil: at the GPA itself, in the file both states share.
    let sharedAlias: UInt64?
    /// A page's state; nil outside RAM.
    let state: (UInt64) -> PageState?

    /// The byte at `gpa` as the VMM reads it; nil when `gpa` is not RAM.
    func load(_ gpa: UInt64) -> UInt8? {
        guard ram.contains(gpa) else { return nil }
        if let sharedAlias { return memory.load(UInt8.self, at: gpa | sharedAlias) ?? 0 }
        return state(gpa) == .shared ? memory.load(UInt8.self, at: gpa) ?? 0 : 0
    }

    /// Stores `byte` at `gpa` as the VMM writes it; false when `gpa` is not RAM.
    func store(_ byte: UInt8, at gpa: UInt64) -> Bool {
        guard ram.contains(gpa) else { return false }
        if let sharedAlias {
            _ = memory.write([byte], at: gpa | sharedAlias)
        } else if state(gpa) == .shared {
            _ = memory.write([byte], at: gpa)
        }
        return true
    }
}
