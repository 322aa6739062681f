import KVM

/// Translates a guest-virtual address through the guest's own 4-level page tables, as the
/// processor does for an instruction that names a GVA (SNP PVALIDATE's RAX). Reads the tables
/// through the host's view of guest memory, so a hostile CR3 or entry can only make the walk
/// fail, never read outside guest memory.
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

    /// The byte of code at the linear address `linear`: through the guest's tables when
    /// CR0.PG is set, else the address itself (paging off: linear = physical); nil where it is
    /// not mapped or not guest memory.
    static func codeByte(at linear: UInt64, sregs: SpecialRegisters, memory: GuestMemory, encryptionMask: UInt64 = 0) -> UInt8? {
        let physical = sregs.cr0 & BootState.cr0Paging == 0 ? linear
            : translate(linear, cr3: sregs.cr3, memory: memory, encryptionMask: encryptionMask)
        return physical.flatMap { memory.load(UInt8.self, at: $0) }
    }

    /// The linear addresses that map the guest-physical address `gpa` under `cr3`, at most
    /// `limit` of them (`encryptionMask`: the SNP C-bit, dropped from every entry): what the
    /// runner falls back on for a fault's linear address when the instruction does not tell. Follows every present entry (a table reached by two
    /// paths maps two ranges), reading at most `tableBudget` tables, so hostile tables that
    /// point back at themselves cannot make it run long; nil when the budget ran out first.
    static func linearAddresses(mapping gpa: UInt64, cr3: UInt64, memory: GuestMemory, encryptionMask: UInt64 = 0, limit: Int = 2,
                                tableBudget: Int = 4096) -> [UInt64]? {
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
            guard let entries = memory.withBytes(at: table, count: 4096, { table in
                // SAFETY: 512 aligned 8-byte entries fill the 4096-byte buffer exactly.
                (0..<512).map { table.load(fromByteOffset: $0 * 8, as: UInt64.self) }
            }) else { return }
            let shift = UInt64(12 + 9 * (level - 1))
            for index in 0..<512 where found.count < limit && !exhausted {
                let entry = entries[index]
                guard entry & present != 0 else { continue }
                var linear = base | UInt64(index) << shift
                if level == 4, index >= 256 { linear |= 0xFFFF_0000_0000_0000 }   // canonical upper half
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
