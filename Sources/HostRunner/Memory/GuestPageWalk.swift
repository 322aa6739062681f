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
}
