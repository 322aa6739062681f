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
            guard let bytes = memory.bytes(at: table + index * 8, count: 8) else { return nil }
            let entry = bytes.loadUnaligned(as: UInt64.self)
            guard entry & present != 0 else { return nil }
            if level == 1 || (level <= 3 && entry & largePage != 0) {
                let pageMask: UInt64 = (1 << shift) - 1
                return (entry & mask & ~pageMask) | (gva & pageMask)
            }
            table = entry & mask
        }
        return nil
    }

    /// The linear addresses that map the guest-physical address `gpa` (as accessed: with its
    /// view bit) under `cr3`, at most `limit` of them: the GLA an EPT violation reports, which
    /// this host's MMIO exit does not give. Searches every present entry of the tables; a
    /// table entry is followed at most once per level, so a hostile table cannot loop it.
    static func linearAddresses(mapping gpa: UInt64, cr3: UInt64, memory: GuestMemory, limit: Int = 2) -> [UInt64] {
        var found: [UInt64] = []
        var visited = Set<UInt64>()
        search(table: cr3 & addressBits, level: 4, base: 0, gpa: gpa, memory: memory, limit: limit, found: &found, visited: &visited)
        return found
    }

    private static func search(table: UInt64, level: Int, base: UInt64, gpa: UInt64, memory: GuestMemory, limit: Int,
                               found: inout [UInt64], visited: inout Set<UInt64>) {
        guard found.count < limit, visited.insert(table << 3 | UInt64(level)).inserted,
              let entries = memory.bytes(at: table, count: 4096) else { return }
        let shift = UInt64(12 + 9 * (level - 1))
        for index in 0..<512 where found.count < limit {
            let entry = entries.load(fromByteOffset: index * 8, as: UInt64.self)
            guard entry & present != 0 else { continue }
            var linear = base | UInt64(index) << shift
            if level == 4, index >= 256 { linear |= 0xFFFF_0000_0000_0000 }   // canonical upper half
            if level == 1 || (level <= 3 && entry & largePage != 0) {
                let size: UInt64 = 1 << shift
                let physical = entry & addressBits & ~(size - 1)
                if gpa & ~(size - 1) == physical { found.append(linear | (gpa & (size - 1))) }
            } else {
                search(table: entry & addressBits, level: level - 1, base: linear, gpa: gpa, memory: memory, limit: limit,
                       found: &found, visited: &visited)
            }
        }
    }
}
