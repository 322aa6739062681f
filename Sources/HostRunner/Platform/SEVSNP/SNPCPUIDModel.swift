import KVM

/// The CPUID an SEV-SNP guest is given: the set a VMM's CPU model gives it, small enough for
/// the SNP CPUID page (at most 64 entries) on any host. The vCPU's KVM_SET_CPUID2 list and the
/// CPUID page hold exactly this list. The reasoning and its sources are in docs/cpuid.md.
///
/// - Ranges: basic leaves up to 0xD, the `.level` of QEMU's EPYC, EPYC-Rome, EPYC-Milan and
///   EPYC-Genoa models; extended leaves up to 0x80000022, the `.xlevel` of EPYC-Genoa, and never
///   below 0x8000001F, to which QEMU raises the minimum for SEV (target/i386/cpu.c
///   `builtin_x86_defs`, `x86_cpu_expand_features`); neither beyond the host's, except that
///   the extended range always reaches the SEV leaf the platform adds. KVM's own hypervisor leaves stay (QEMU's `kvm_arch_init_vcpu` adds them); no other range.
/// - Entries: what KVM supports in those ranges, without the all-zero ones. QEMU leaves them
///   out too (`kvm_x86_build_cpuid`: "KVM already returns all zeroes if a CPUID entry is
///   missing"); KVM answers zero for a leaf or subleaf in range but not in the list
///   (arch/x86/kvm/cpuid.c `kvm_cpuid`, `get_out_of_range_cpuid_entry`), and a guest reads a
///   leaf in range but absent from the page as zero (Linux `snp_cpuid`). Leaves 0xB and 0x1F
///   keep theirs: where subleaf 1 exists, KVM answers a missing subleaf of them with ECX[7:0]
///   and the x2APIC ID, not zero.
/// - Order: by leaf, then subleaf.
/// - If the list still exceeds the page, whole leaves go, in a fixed order: extended leaves
///   above 0x8000001F from the top, lowering 0x80000000.EAX with them; basic leaves above 0xD
///   likewise with leaf 0; then the other extended leaves, the other basic leaves, the
///   hypervisor leaves, each from the top; last the XSAVE components (0xD subleaves from 2),
///   from the top, each taking its bit out of 0xD.0 and 0xD.1 so no guest enables a state
///   whose size it cannot look up (Linux `snp_cpuid_calc_xsave_size`). `required` never goes.
enum SNPCPUIDModel {
    static let basicMaximum: UInt32 = 0xD
    static let extendedMaximum: UInt32 = 0x8000_0022
    static let extendedMinimum: UInt32 = CPUIDTable.sevLeaf
    static let capacity = SNPCPUIDPage.countMax

    struct Key: Hashable, Comparable {
        var function: UInt32
        var index: UInt32
        init(_ function: UInt32, _ index: UInt32 = 0) {
            self.function = function
            self.index = index
        }
        init(_ entry: CPUIDEntry) { self.init(entry.function, entry.index) }
        static func < (a: Key, b: Key) -> Bool { (a.function, a.index) < (b.function, b.index) }
    }

    /// Never left out: the vendor and ranges, the family and features (leaf 1 also carries the
    /// APIC ID), the structured features, the XSAVE base sizes Linux's `snp_cpuid_postprocess`
    /// starts from, the extended features, the address sizes and the SEV leaf.
    static let required: Set<Key> = [
        Key(0), Key(1), Key(7), Key(0xD, 0), Key(0xD, 1),
        Key(0x8000_0000), Key(0x8000_0001), Key(0x8000_0008), Key(CPUIDTable.sevLeaf),
    ]

    private static let hypervisorRange: ClosedRange<UInt32> = 0x4000_0000...0x4FFF_FFFF
    private static let extendedRange: ClosedRange<UInt32> = 0x8000_0000...0x8FFF_FFFF

    /// The model of `entries` (the platform-adjusted list `CPUIDTable.forVCPU` builds).
    static func entries(_ entries: [CPUIDEntry]) -> [CPUIDEntry] {
        var unique: [Key: CPUIDEntry] = [:]
        for entry in entries where unique[Key(entry)] == nil { unique[Key(entry)] = entry }
        let basicTop = min(unique[Key(0)]?.eax ?? 0, basicMaximum)
        let extendedTop = unique[Key(0x8000_0000)].map { max(min($0.eax, extendedMaximum), extendedMinimum) } ?? 0
        let hypervisorTop = unique[Key(0x4000_0000)]?.eax ?? 0
        var kept = unique.values.filter { entry in
            let key = Key(entry)
            let inRange =
                entry.function <= basicTop
                || (hypervisorRange.contains(entry.function) && entry.function <= hypervisorTop)
                || (extendedRange.contains(entry.function) && entry.function <= extendedTop)
            let zero = (entry.eax | entry.ebx | entry.ecx | entry.edx) == 0
            return inRange && (!zero || required.contains(key) || entry.function == 0xB || entry.function == 0x1F)
        }.sorted { Key($0) < Key($1) }
        setMaximum(&kept, leaf: 0, to: basicTop)
        setMaximum(&kept, leaf: 0x8000_0000, to: extendedTop)
        trim(&kept)
        return kept
    }

    /// Whole leaves out, in the order the type's documentation gives, until the list fits.
    private static func trim(_ entries: inout [CPUIDEntry]) {
        guard entries.count > capacity else { return }
        let functions = Set(entries.map(\.function)).sorted(by: >)
        let requiredFunctions = Set(required.map(\.function))
        func isExtended(_ function: UInt32) -> Bool { extendedRange.contains(function) }
        func isHypervisor(_ function: UInt32) -> Bool { hypervisorRange.contains(function) }
        func isBasic(_ function: UInt32) -> Bool { !isExtended(function) && !isHypervisor(function) }
        let extendedFloor = functions.filter { isExtended($0) && requiredFunctions.contains($0) }.max() ?? 0x8000_0000
        let basicFloor = functions.filter { isBasic($0) && requiredFunctions.contains($0) }.max() ?? 0
        let stages: [[UInt32]] = [
            functions.filter { isExtended($0) && $0 > extendedFloor },
            functions.filter { isBasic($0) && $0 > basicFloor },
            functions.filter { isExtended($0) && $0 < extendedFloor },
            functions.filter { isBasic($0) && $0 < basicFloor },
            functions.filter(isHypervisor),
        ]
        for function in stages.joined() where entries.count > capacity {
            entries.removeAll { $0.function == function && !required.contains(Key($0)) }
            if function > extendedFloor {
                setMaximum(&entries, leaf: 0x8000_0000, to: entries.filter { isExtended($0.function) }.map(\.function).max() ?? 0)
            } else if isBasic(function) && function > basicFloor {
                setMaximum(&entries, leaf: 0, to: entries.filter { isBasic($0.function) }.map(\.function).max() ?? 0)
            }
        }
        let components = entries.filter { $0.function == 0xD && $0.index >= 2 && $0.index < 64 }.map(\.index).sorted(by: >)
        for component in components where entries.count > capacity {
            entries.removeAll { $0.function == 0xD && $0.index == component }
            withdrawXSAVEComponent(component, from: &entries)
        }
    }

    /// Clears XSAVE state component `n` from the XCR0 mask (0xD.0 EAX:EDX) and the XSS mask
    /// (0xD.1 ECX:EDX): the component's own subleaf is gone.
    private static func withdrawXSAVEComponent(_ n: UInt32, from entries: inout [CPUIDEntry]) {
        let low: UInt32 = n < 32 ? 1 << n : 0
        let high: UInt32 = n >= 32 ? 1 << (n - 32) : 0
        for i in entries.indices where entries[i].function == 0xD {
            if entries[i].index == 0 {
                entries[i].eax &= ~low
                entries[i].edx &= ~high
            } else if entries[i].index == 1 {
                entries[i].ecx &= ~low
                entries[i].edx &= ~high
            }
        }
    }

    private static func setMaximum(_ entries: inout [CPUIDEntry], leaf: UInt32, to maximum: UInt32) {
        if let i = entries.firstIndex(where: { $0.function == leaf }) { entries[i].eax = maximum }
    }
}
