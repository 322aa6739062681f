import KVM

/// The CPUID a vCPU sees: what KVM supports, with this vCPU's initial APIC ID (the runtime's
/// reset path uses it as the vCPU index), and the identity of the confidential platform the
/// guest is told it runs on — the same leaves real guests probe before choosing an interface
/// (Linux arch/x86/coco: TDX by leaf 0x21, SEV by 0x8000001F and then SEV_STATUS, KVM's
/// hypercall by its feature leaf). An SEV-SNP guest gets the subset `SNPCPUIDModel` chooses,
/// which fits the SNP CPUID page; the other platforms get every leaf KVM supports (why a TD
/// may: docs/cpuid.md).
enum CPUIDTable {
    static let sevLeaf: UInt32 = 0x8000_001F
    static let addressSizesLeaf: UInt32 = 0x8000_0008

    /// vCPU `index`'s CPUID on `platform`: the APIC ID, the guest physical address width
    /// the platform's view bit needs (`physicalAddressBits`), then the platform's identity
    /// (`GuestPlatform.identify`).
    static func forVCPU(
        _ index: Int, supported: [CPUIDEntry], platform: any GuestPlatform,
        physicalAddressBits: UInt32?
    ) -> [CPUIDEntry] {
        var entries = supported.map { entry in
            var entry = entry
            // EBX[31:24] = initial APIC ID.
            if entry.function == 1 { entry.ebx = (entry.ebx & 0x00FF_FFFF) | UInt32(index) << 24 }
            return entry
        }
        if let bits = physicalAddressBits { widenPhysicalAddress(&entries, to: bits) }
        return platform.identify(entries)
    }

    /// The same for the platform `RunOptions.platform` names (its defaults otherwise).
    static func forVCPU(
        _ index: Int, supported: [CPUIDEntry], platform: ConversionPlatform?,
        physicalAddressBits: UInt32? = nil
    ) -> [CPUIDEntry] {
        var options = RunOptions()
        options.platform = platform
        return forVCPU(index, supported: supported, platform: GuestPlatforms.platform(for: options), physicalAddressBits: physicalAddressBits)
    }

    /// An AMD host's KVM reports its SEV features in leaf 0x8000001F; a guest that is not an
    /// SEV guest must not see them (QEMU zeroes the leaf unless SEV is on), or it would read
    /// the SEV_STATUS MSR, which only an SEV guest has.
    static func hideSEV(_ entries: inout [CPUIDEntry]) {
        if entries.contains(where: { $0.function == sevLeaf }) { set(&entries, leaf: sevLeaf, eax: 0, ebx: 0, ecx: 0, edx: 0) }
    }

    /// Leaf 0x80000008 EAX[7:0] (MAXPHYADDR) and [23:16] (guest physical address width, from
    /// which KVM derives a TD's GPAW: Linux tdx.c setup_tdparams_eptp_controls) raised to
    /// `bits`. The guest MMU checks reserved PTE bits against the guest's MAXPHYADDR, so a
    /// platform whose private/shared view bit lies above the host's (bit 47 on a 46-bit
    /// host) must report a width that makes the bit an address bit, as the platform does.
    private static func widenPhysicalAddress(_ entries: inout [CPUIDEntry], to bits: UInt32) {
        var entry = entries.first { $0.function == addressSizesLeaf } ?? CPUIDEntry()
        let physical = max(entry.eax & 0xFF, bits)
        let guestPhysical = max((entry.eax >> 16) & 0xFF, bits)
        entry.function = addressSizesLeaf
        entry.eax = (entry.eax & 0xFF00_FF00) | physical | guestPhysical << 16
        entries.removeAll { $0.function == addressSizesLeaf }
        entries.append(entry)
    }

    static func raiseMaximum(_ entries: inout [CPUIDEntry], leaf: UInt32, to maximum: UInt32) {
        if let index = entries.firstIndex(where: { $0.function == leaf }), entries[index].eax < maximum {
            entries[index].eax = maximum
        }
    }

    static func set(_ entries: inout [CPUIDEntry], leaf: UInt32, eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) {
        var entry = entries.first { $0.function == leaf && $0.index == 0 } ?? CPUIDEntry()
        entry.function = leaf
        entry.index = 0
        entry.eax = eax
        entry.ebx = ebx
        entry.ecx = ecx
        entry.edx = edx
        entries.removeAll { $0.function == leaf }
        entries.append(entry)
    }

    static func fourCC(_ text: String) -> UInt32 {
        text.utf8.prefix(4).enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }
}
