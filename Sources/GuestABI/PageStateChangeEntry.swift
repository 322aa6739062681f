/// A Page State Change operation (GHCB spec; edk2 Ghcb.h, coconut-svsm `sev/ghcb.rs`;
/// Linux names only PRIVATE and SHARED).
public enum PageStateChangeOperation: UInt8, Sendable, CaseIterable {
    case makePrivate = 1
    case makeShared = 2
    case psmash = 3
    case unsmash = 4
}

/// One 64-bit PSC descriptor entry: `cur_page` [11:0], `gfn` [51:12],
/// `operation` [55:52], `pagesize` [56] (1 = 2 MiB), reserved [63:57]
/// (Linux `struct psc_entry` in asm/sev-common.h).
public struct PageStateChangeEntry: Sendable, Hashable {
    public var rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(gfn: UInt64, operation: PageStateChangeOperation, is2M: Bool, curPage: UInt16 = 0) {
        self.init(gfn: gfn, rawOperation: operation.rawValue, is2M: is2M, curPage: curPage)
    }

    /// Builds an entry with any 4-bit operation value, valid or not (for tests and fuzzing).
    public init(gfn: UInt64, rawOperation: UInt8, is2M: Bool, curPage: UInt16 = 0, reserved: UInt8 = 0) {
        rawValue =
            (UInt64(curPage) & Self.curPageMask)
            | ((gfn & Self.gfnMask) << 12)
            | (UInt64(rawOperation & 0xF) << 52)
            | (is2M ? 1 << 56 : 0)
            | (UInt64(reserved & 0x7F) << 57)
    }

    static let curPageMask: UInt64 = 0xFFF
    static let gfnMask: UInt64 = (1 << 40) - 1

    public var curPage: UInt16 {
        get { UInt16(rawValue & Self.curPageMask) }
        set { rawValue = (rawValue & ~Self.curPageMask) | (UInt64(newValue) & Self.curPageMask) }
    }

    public var gfn: UInt64 { (rawValue >> 12) & Self.gfnMask }
    public var rawOperation: UInt8 { UInt8((rawValue >> 52) & 0xF) }
    public var operation: PageStateChangeOperation? { PageStateChangeOperation(rawValue: rawOperation) }
    public var is2M: Bool { rawValue & (1 << 56) != 0 }
    public var reservedBits: UInt8 { UInt8(rawValue >> 57) }

    /// How many 4 KiB pages the entry covers in all.
    public var pageCount: UInt64 { is2M ? 512 : 1 }
}
