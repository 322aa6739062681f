/// The PSC buffer a guest places in the GHCB shared buffer: an 8-byte header
/// `{u16 cur_entry; u16 end_entry (inclusive); u32 reserved}` followed by entries
/// (Linux `struct psc_hdr` / `struct psc_buffer`; sev.c loops `idx <= end_entry`).
public struct PageStateChangeDescriptor: Sendable, Hashable {
    /// The GHCB limit: header plus entries exactly fill the 2032-byte shared buffer,
    /// (2032 - 8) / 8 = 253 (Linux `VMGEXIT_PSC_MAX_COUNT`, edk2 `SNP_PAGE_STATE_MAX_ENTRY`).
    public static let maximumEntryCount = 253
    public static let headerSize = 8
    public static let entrySize = 8

    public var curEntry: UInt16
    public var endEntry: UInt16
    public var reserved: UInt32
    public var entries: [PageStateChangeEntry]

    public init(curEntry: UInt16 = 0, endEntry: UInt16, reserved: UInt32 = 0, entries: [PageStateChangeEntry]) {
        self.curEntry = curEntry
        self.endEntry = endEntry
        self.reserved = reserved
        self.entries = entries
    }

    /// A descriptor whose header covers exactly `entries`, as a guest builds one.
    public init(entries: [PageStateChangeEntry]) {
        self.init(curEntry: 0, endEntry: UInt16(clamping: max(entries.count - 1, 0)), entries: entries)
    }

    /// Reads a header and `entryCount` entries from `page` at byte `offset`.
    public init(page: GHCBPage, offset: Int, entryCount: Int) {
        curEntry = page.load(UInt16.self, at: offset)
        endEntry = page.load(UInt16.self, at: offset + 2)
        reserved = page.load(UInt32.self, at: offset + 4)
        entries = (0..<entryCount).map {
            PageStateChangeEntry(rawValue: page.load(UInt64.self, at: Self.entryOffset($0, base: offset)))
        }
    }

    /// Writes the header and entries into `page` at byte `offset`.
    public func write(to page: inout GHCBPage, offset: Int) {
        page.store(curEntry, at: offset)
        page.store(endEntry, at: offset + 2)
        page.store(reserved, at: offset + 4)
        for (index, entry) in entries.enumerated() {
            page.store(entry.rawValue, at: Self.entryOffset(index, base: offset))
        }
    }

    public var encodedSize: Int { Self.headerSize + entries.count * Self.entrySize }

    static func entryOffset(_ index: Int, base: Int) -> Int {
        base + headerSize + index * entrySize
    }
}
