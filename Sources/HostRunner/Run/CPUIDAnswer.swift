import KVM

/// The answer KVM gives a CPUID it emulates for a guest whose state it cannot read (a GHCB
/// CPUID NAE event, a TDVMCALL Instruction.CPUID): `kvm_cpuid` over the vCPU's CPUID list
/// (arch/x86/kvm/cpuid.c), with the XSAVE sizes of leaf 0xD computed for the XCR0 and XSS
/// the guest supplied (sev.c `sev_es_sync_from_ghcb` loads them before the exit is served;
/// `kvm_update_cpuid_runtime` sets 0xD.0 EBX to the standard-format size of XCR0's
/// components and, where XSAVEC or XSAVES is enumerated, 0xD.1 EBX to the compacted size
/// of XCR0 | XSS, `xstate_required_size`). Pure.
///
/// Not modelled: the dynamic bits KVM takes from live vCPU state (CPUID.1 ECX.OSXSAVE from
/// CR4, CPUID.7 ECX.OSPKE) — they read as the list holds them; and Intel's answer to a leaf
/// above the basic range (KVM answers the highest basic leaf): a leaf the list lacks reads
/// zero, as KVM answers on AMD, except ECX of leaves 0xB and 0x1F.
enum CPUIDAnswer {
    struct Registers: Equatable {
        var eax: UInt32 = 0, ebx: UInt32 = 0, ecx: UInt32 = 0, edx: UInt32 = 0
    }

    /// KVM_CPUID_FLAG_SIGNIFCANT_INDEX (Linux uapi asm/kvm.h).
    static let significantIndex: UInt32 = 1
    /// XSAVE legacy area (512 bytes) and header (64 bytes): the size with no extended state.
    static let xsaveBaseSize: UInt32 = 576
    /// CPUID.(EAX=0xD,ECX=1):EAX bits 1 (XSAVEC) and 3 (XSAVES).
    static let xsavecOrXsaves: UInt32 = (1 << 1) | (1 << 3)

    static func answer(_ entries: [CPUIDEntry], leaf: UInt32, subleaf: UInt32, xcr0: UInt64?, xss: UInt64?) -> Registers {
        // The subleaf counts only for entries flagged KVM_CPUID_FLAG_SIGNIFCANT_INDEX
        // (cpuid.c `kvm_find_cpuid_entry_index`).
        guard
            let entry = entries.first(where: {
                $0.function == leaf && ($0.flags & significantIndex == 0 || $0.index == subleaf)
            })
        else {
            var zero = Registers()
            if leaf == 0xB || leaf == 0x1F { zero.ecx = subleaf & 0xFF }
            return zero
        }
        var answer = Registers(eax: entry.eax, ebx: entry.ebx, ecx: entry.ecx, edx: entry.edx)
        if leaf == 0xD, subleaf == 0, let xcr0 {
            answer.ebx = requiredSize(xcr0, compacted: false, entries)
        } else if leaf == 0xD, subleaf == 1, entry.eax & xsavecOrXsaves != 0, let xcr0 {
            answer.ebx = requiredSize(xcr0 | (xss ?? 0), compacted: true, entries)
        }
        return answer
    }

    /// `xstate_required_size`: the XSAVE area for the components in `mask`, from the sizes
    /// and offsets leaf 0xD's subleaves 2…63 give (ECX bit 1: 64-byte aligned when compacted).
    static func requiredSize(_ mask: UInt64, compacted: Bool, _ entries: [CPUIDEntry]) -> UInt32 {
        var size = xsaveBaseSize
        for component in UInt32(2)..<64 where mask & (1 << UInt64(component)) != 0 {
            guard let entry = entries.first(where: { $0.function == 0xD && $0.index == component }) else { continue }
            let offset = compacted ? (entry.ecx & 0x2 != 0 ? (size + 63) & ~63 : size) : entry.ebx
            size = max(size, offset + entry.eax)
        }
        return size
    }
}
