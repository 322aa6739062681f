import KVM

/// Translates a guest-virtual address through the guest's own page tables, as the processor
/// does for an instruction that names a GVA (SNP PVALIDATE's RAX: 4-level) or fetches code
/// (a request site's bytes: whichever paging mode the vCPU is in). Reads the tables through
/// the host's view of guest memory, so a hostile CR3 or entry can only make the walk fail,
/// never read outside guest memory.
enum GuestPageWalk {
    static let present: UInt64 = 1 << 0
    static let largePage: UInt64 = 1 << 7
    /// Bits 51:12 of an entry hold the next table's or the page's physical address.
    static let addressBits: UInt64 = 0x000F_FFFF_FFFF_F000

    /// The GPA `gva` maps to under `cr3`, or nil where an entry is not present or unreadable.
    /// `encryptionMask` (the SNP C-bit) is a view bit, not an address bit: it is dropped from
    /// every table address and from the result, as Linux drops sme_me_mask from physical_mask.
    static func translate(_ gva: UInt64, cr3: UInt64, memory: GuestMemory, encryptionMask: UInt64 = 0) -> UInt64? {
        let mask = addressBits & ~encryptionMask
        var table = cr3 & mask
        // PML4 (bits 47:39), PDPT (38:30), PD (29:21), PT (20:12).
        for (level, shift) in [(4, UInt64(39)), (3, 30), (2, 21), (1, 12)] {
            let index = (gva >> shift) & 0x1FF
            guard let entry = memory.load(UInt64.self, at: table + index * 8) else { return nil }
            guard entry & present != 0 else { return nil }
            if level == 1 || (level <= 3 && entry & largePage != 0) {
                let pageMask: UInt64 = (1 << shift) - 1
                return (entry & mask & ~pageMask) | (gva & pageMask)
            }
            table = entry & mask
        }
        return nil
    }

    /// The byte of code at the linear address `linear` (`physicalAddress(ofLinear:)`); nil
    /// where it is not mapped or not guest memory.
    static func codeByte(at linear: UInt64, sregs: SpecialRegisters, memory: GuestMemory, encryptionMask: UInt64 = 0) -> UInt8? {
        physicalAddress(ofLinear: linear, sregs: sregs, memory: memory, encryptionMask: encryptionMask)
            .flatMap { memory.load(UInt8.self, at: $0) }
    }

    /// Up to `count` bytes an instruction fetch at `linear` reads, each page translated on its
    /// own (an instruction may straddle two, mapped anywhere): stops at the first byte whose
    /// page is not mapped or not guest memory, so it is empty for an unmapped RIP.
    static func codeBytes(at linear: UInt64, count: Int, sregs: SpecialRegisters, memory: GuestMemory, encryptionMask: UInt64 = 0) -> [UInt8] {
        var bytes: [UInt8] = []
        var address = linear
        while bytes.count < count {
            guard let physical = physicalAddress(ofLinear: address, sregs: sregs, memory: memory, encryptionMask: encryptionMask) else { break }
            let onPage = Int(min(UInt64(count - bytes.count), pageSize - (address & (pageSize - 1))))
            guard let chunk = memory.withPrefix(at: physical, upTo: onPage, { Array($0) }), !chunk.isEmpty else { break }
            bytes += chunk
            guard chunk.count == onPage else { break }
            address &+= UInt64(onPage)
        }
        return bytes
    }

    static let pageSize: UInt64 = 4096

    /// The physical address the linear `linear` maps to in the paging mode `sregs` selects
    /// (Intel SDM vol. 3 §4.1.1, AMD APM vol. 2 §5.1): CR0.PG clear, none (linear = physical);
    /// EFER.LMA, 4-level (`translate`); else CR4.PAE, PAE paging (`translatePAE`); else 32-bit
    /// paging (`translate32`). nil where an entry is not present or not guest memory.
    static func physicalAddress(ofLinear linear: UInt64, sregs: SpecialRegisters, memory: GuestMemory, encryptionMask: UInt64 = 0) -> UInt64? {
        guard sregs.cr0 & BootState.cr0Paging != 0 else { return linear }
        if sregs.efer & BootState.eferLMA != 0 { return translate(linear, cr3: sregs.cr3, memory: memory, encryptionMask: encryptionMask) }
        if sregs.cr4 & BootState.cr4PAE != 0 { return translatePAE(linear, cr3: sregs.cr3, memory: memory, encryptionMask: encryptionMask) }
        return translate32(linear, cr3: sregs.cr3, pse: sregs.cr4 & cr4PSE != 0, memory: memory)
    }

    /// CR4.PSE, bit 4: 4 MiB pages in 32-bit paging.
    static let cr4PSE: UInt64 = 1 << 4

    /// PAE paging (Intel SDM vol. 3 §4.4): CR3 bits 31:5 hold a 4-entry PDPT indexed by bits
    /// 31:30, whose entries have no PS bit; then a PD (bits 29:21, PS: a 2 MiB page) and a PT
    /// (bits 20:12), 8-byte entries as in 4-level paging.
    static func translatePAE(_ linear: UInt64, cr3: UInt64, memory: GuestMemory, encryptionMask: UInt64 = 0) -> UInt64? {
        let mask = addressBits & ~encryptionMask
        let address = linear & 0xFFFF_FFFF
        guard let pdpte = memory.load(UInt64.self, at: (cr3 & 0xFFFF_FFE0) + ((address >> 30) & 3) * 8), pdpte & present != 0 else { return nil }
        guard let pde = memory.load(UInt64.self, at: (pdpte & mask) + ((address >> 21) & 0x1FF) * 8), pde & present != 0 else { return nil }
        if pde & largePage != 0 { return (pde & mask & ~0x1F_FFFF) | (address & 0x1F_FFFF) }
        guard let pte = memory.load(UInt64.self, at: (pde & mask) + ((address >> 12) & 0x1FF) * 8), pte & present != 0 else { return nil }
        return (pte & mask) | (address & 0xFFF)
    }

    /// 32-bit paging (Intel SDM vol. 3 §4.3): CR3 bits 31:12 hold a PD of 4-byte entries
    /// indexed by bits 31:22; with CR4.PSE a PDE with PS maps a 4 MiB page (bits 31:22, and
    /// PSE-36's bits 39:32 from PDE bits 20:13), else a PT indexed by bits 21:12. SEV-SNP has
    /// no C-bit in 4-byte entries, so no mask applies.
    static func translate32(_ linear: UInt64, cr3: UInt64, pse: Bool, memory: GuestMemory) -> UInt64? {
        let address = linear & 0xFFFF_FFFF
        guard let pde = memory.load(UInt32.self, at: (cr3 & 0xFFFF_F000) + ((address >> 22) & 0x3FF) * 4).map(UInt64.init),
            pde & present != 0
        else { return nil }
        if pse, pde & largePage != 0 { return (pde & 0xFFC0_0000) | ((pde >> 13) & 0xFF) << 32 | (address & 0x3F_FFFF) }
        guard let pte = memory.load(UInt32.self, at: (pde & 0xFFFF_F000) + ((address >> 12) & 0x3FF) * 4).map(UInt64.init),
            pte & present != 0
        else { return nil }
        return (pte & 0xFFFF_F000) | (address & 0xFFF)
    }

    /// The linear addresses that map the guest-physical address `gpa` under `cr3`, at most
    /// `limit` of them (`encryptionMask`: the SNP C-bit, dropped from every entry): what the
    /// runner falls back on for a fault's linear address when the instruction does not tell. Follows every present entry (a table reached by two
    /// paths maps two ranges), reading at most `tableBudget` tables, so hostile tables that
    /// point back at themselves cannot make it run long; nil when the budget ran out first.
    static func linearAddresses(
        mapping gpa: UInt64, cr3: UInt64, memory: GuestMemory, encryptionMask: UInt64 = 0, limit: Int = 2,
        tableBudget: Int = 4096
    ) -> [UInt64]? {
        var search = ReverseSearch(gpa: gpa & ~encryptionMask, mask: addressBits & ~encryptionMask, memory: memory, limit: limit, budget: tableBudget)
        search.visit(table: cr3 & search.mask, level: 4, base: 0)
        return search.exhausted ? nil : search.found
    }

    private struct ReverseSearch {
        let gpa: UInt64
        /// Address bits of an entry: without the encryption mask, a view bit and no address.
        let mask: UInt64
        let memory: GuestMemory
        let limit: Int
        var budget: Int
        var found: [UInt64] = []
        var exhausted = false

        init(gpa: UInt64, mask: UInt64, memory: GuestMemory, limit: Int, budget: Int) {
            self.gpa = gpa
            self.mask = mask
            self.memory = memory
            self.limit = limit
            self.budget = budget
        }

        mutating func visit(table: UInt64, level: Int, base: UInt64) {
            guard found.count < limit, !exhausted else { return }
            guard budget > 0 else { exhausted = true; return }
            budget -= 1
            guard
                let entries = memory.withBytes(
                    at: table, count: 4096,
                    { table in
                        // SAFETY: 512 aligned 8-byte entries fill the 4096-byte buffer exactly.
                        (0..<512).map { table.load(fromByteOffset: $0 * 8, as: UInt64.self) }
                    })
            else { return }
            let shift = UInt64(12 + 9 * (level - 1))
            for index in 0..<512 where found.count < limit && !exhausted {
                let entry = entries[index]
                guard entry & present != 0 else { continue }
                var linear = base | UInt64(index) << shift
                if level == 4, index >= 256 { linear |= 0xFFFF_0000_0000_0000 } // canonical upper half
                if level == 1 || (level <= 3 && entry & largePage != 0) {
                    let size: UInt64 = 1 << shift
                    if gpa & ~(size - 1) == entry & mask & ~(size - 1) { found.append(linear | (gpa & (size - 1))) }
                } else {
                    visit(table: entry & mask, level: level - 1, base: linear)
                }
            }
        }
    }
}
