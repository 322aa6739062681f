/// The boot page tables of a direct64 image as an SEV-SNP VMM hands them over when it starts
/// the guest in long mode (the initial state an SNP launch measures: IGVM page-table pages,
/// built for the platform's C-bit): every table reached through private memory, the
/// identity view of RAM private (C=1), the runtime's alias view shared (C=0).
///
/// The runtime's tables (GuestStubs/runtime/pagetables.asm) map the identity view at PA and
/// the alias at PA | 1 << 47, the TDX shared bit for GPAW 48. With the C-bit at 47 the VMM's
/// change is to flip bit 47 in every leaf and set it in every table pointer: the identity
/// leaves gain C, the alias leaves lose it.
enum SNPBootPaging {
    static let present: UInt64 = 1 << 0
    static let largePage: UInt64 = 1 << 7
    static let runtimeAliasBit: UInt64 = 1 << 47

    /// Rewrites the tables under `root` in guest memory; false when they are not the
    /// runtime's shape (a leaf above the PD, a table outside memory, another C-bit).
    static func encrypt(root: UInt64, memory: GuestMemory, cBit: UInt64) -> Bool {
        guard cBit == runtimeAliasBit else { return false }
        var visited = Set<UInt64>()
        return rewrite(table: root, level: 4, memory: memory, cBit: cBit, visited: &visited)
    }

    private static func rewrite(table: UInt64, level: Int, memory: GuestMemory, cBit: UInt64, visited: inout Set<UInt64>) -> Bool {
        guard visited.insert(table).inserted else { return true }
        let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000 & ~cBit
        return memory.withBytes(at: table, count: 4096) { entries in
            for index in 0..<512 {
                // SAFETY: index * 8 + 8 <= 4096, the buffer's size; the table is 8-byte aligned
                // (a page), so the aligned load and store are in bounds and aligned.
                var entry = entries.load(fromByteOffset: index * 8, as: UInt64.self)
                guard entry & present != 0 else { continue }
                if level == 2 && entry & largePage != 0 {
                    entry ^= cBit // a 2 MiB leaf: identity ↔ private, alias ↔ shared
                } else if level > 1 && entry & largePage == 0 {
                    guard rewrite(table: entry & addressMask, level: level - 1, memory: memory, cBit: cBit, visited: &visited) else { return false }
                    entry |= cBit // the next table lives in private memory
                } else {
                    return false // 1 GiB or 4 KiB leaves: not the runtime's tables
                }
                // SAFETY: as the load above.
                entries.storeBytes(of: entry, toByteOffset: index * 8, as: UInt64.self)
            }
            return true
        } ?? false
    }
}
