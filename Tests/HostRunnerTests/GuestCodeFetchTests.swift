import GuestPhysical
import KVM
import XCTest

@testable import HostRunner

/// The bytes an instruction fetch reads at a linear address, in each paging mode, over
/// tables built here by hand (Intel SDM vol. 3 §4.3 32-bit, §4.4 PAE, §4.5 4-level): what the
/// runner decodes at a request site before serving it (issue 18).
final class GuestCodeFetchTests: XCTestCase {
    private static let table: UInt64 = 0b11 // present, writable
    private static let large: UInt64 = 0b1000_0011 // present, writable, PS
    private static let cBit: UInt64 = 1 << 47

    private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 0x10000, alignment: 4096)
    private var memory: GuestMemory { GuestMemory(regions: [.init(name: "ram", range: GPARange(start: 0, end: 0x10000), base: buffer.baseAddress!)]) }

    override func setUp() {
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        // TDCALL split across two code pages mapped out of order (GVA 0x5000 -> 0x9000,
        // GVA 0x6000 -> 0x8000), and a vmcall at the end of GVA 0x6000's page.
        store([0x66, 0x0F], at: 0x9FFE)
        store([0x01, 0xCC], at: 0x8000)
        store([0x0F, 0x01], at: 0x8FFE)
    }

    override func tearDown() {
        buffer.deallocate()
    }

    private func store(_ bytes: [UInt8], at offset: Int) {
        for (i, byte) in bytes.enumerated() { buffer[offset + i] = byte }
    }

    private func set64(_ table: UInt64, _ index: Int, _ entry: UInt64) {
        buffer.storeBytes(of: entry, toByteOffset: Int(table) + index * 8, as: UInt64.self)
    }

    private func set32(_ table: UInt64, _ index: Int, _ entry: UInt32) {
        buffer.storeBytes(of: entry, toByteOffset: Int(table) + index * 4, as: UInt32.self)
    }

    private func sregs(cr3: UInt64, cr4: UInt64 = 0, longMode: Bool = false) -> SpecialRegisters {
        var sregs = SpecialRegisters()
        sregs.cr0 = BootState.cr0ProtectedMode | BootState.cr0Paging
        sregs.cr3 = cr3
        sregs.cr4 = cr4
        sregs.efer = longMode ? BootState.eferLME | BootState.eferLMA : 0
        return sregs
    }

    /// 4-level tables at 0x1000-0x4000, the SNP C-bit in every entry when `cBit` is set.
    private func build4Level(cBit: UInt64 = 0) {
        set64(0x1000, 0, 0x2000 | cBit | Self.table)
        set64(0x2000, 0, 0x3000 | cBit | Self.table)
        set64(0x3000, 0, 0x4000 | cBit | Self.table)
        set64(0x4000, 5, 0x9000 | cBit | Self.table)
        set64(0x4000, 6, 0x8000 | cBit | Self.table)
    }

    func testAnInstructionStraddlingTwoPagesIsReadFromBoth() {
        build4Level()
        let long = sregs(cr3: 0x1000, cr4: BootState.cr4PAE, longMode: true)
        XCTAssertEqual(GuestPageWalk.codeBytes(at: 0x5FFE, count: 4, sregs: long, memory: memory), [0x66, 0x0F, 0x01, 0xCC])
    }

    func testTheFetchStopsAtTheFirstUnmappedByte() {
        build4Level()
        let long = sregs(cr3: 0x1000, cr4: BootState.cr4PAE, longMode: true)
        XCTAssertEqual(GuestPageWalk.codeBytes(at: 0x6FFE, count: 4, sregs: long, memory: memory), [0x0F, 0x01], "GVA 0x7000 is not present")
        XCTAssertEqual(GuestPageWalk.codeBytes(at: 0x7000, count: 4, sregs: long, memory: memory), [], "an unmapped RIP")
    }

    /// SEV-SNP: the C-bit in the entries is a view bit, not an address bit.
    func testTheCBitIsDroppedFromEveryEntry() {
        build4Level(cBit: Self.cBit)
        let long = sregs(cr3: 0x1000 | Self.cBit, cr4: BootState.cr4PAE, longMode: true)
        XCTAssertEqual(GuestPageWalk.codeBytes(at: 0x5FFE, count: 4, sregs: long, memory: memory, encryptionMask: Self.cBit), [0x66, 0x0F, 0x01, 0xCC])
        XCTAssertEqual(GuestPageWalk.codeBytes(at: 0x5FFE, count: 4, sregs: long, memory: memory), [], "the C-bit read as an address bit lands outside memory")
    }

    func testPagingOffFetchesThePhysicalAddress() {
        var real = SpecialRegisters()
        real.cr0 = BootState.cr0ProtectedMode
        XCTAssertEqual(GuestPageWalk.codeBytes(at: 0x9FFE, count: 2, sregs: real, memory: memory), [0x66, 0x0F])
    }

    /// PAE: a 4-entry PDPT at CR3 bits 31:5, then PD and PT as in 4-level paging.
    func testPAEPaging() {
        set64(0xA020, 0, 0xB000 | 1) // PDPTEs: P only
        set64(0xB000, 0, 0xC000 | Self.table)
        set64(0xB000, 1, 0x20_0000 | Self.large)
        set64(0xC000, 5, 0x9000 | Self.table)
        set64(0xC000, 6, 0x8000 | Self.table)
        let pae = sregs(cr3: 0xA020, cr4: BootState.cr4PAE)
        XCTAssertEqual(GuestPageWalk.codeBytes(at: 0x5FFE, count: 4, sregs: pae, memory: memory), [0x66, 0x0F, 0x01, 0xCC])
        XCTAssertEqual(GuestPageWalk.physicalAddress(ofLinear: 0x20_0123, sregs: pae, memory: memory), 0x20_0123, "a 2 MiB page")
        XCTAssertNil(GuestPageWalk.physicalAddress(ofLinear: 0x4000_0000, sregs: pae, memory: memory), "PDPTE 1 is not present")
    }

    /// 32-bit paging: 4-byte entries, 4 MiB pages only with CR4.PSE.
    func test32BitPaging() {
        set32(0xD000, 0, 0xE000 | 0b11)
        set32(0xD000, 1, 0x40_0000 | 0b1000_0011)
        set32(0xE000, 5, 0x9000 | 0b11)
        set32(0xE000, 6, 0x8000 | 0b11)
        let paged = sregs(cr3: 0xD000)
        XCTAssertEqual(GuestPageWalk.codeBytes(at: 0x5FFE, count: 4, sregs: paged, memory: memory), [0x66, 0x0F, 0x01, 0xCC])
        let pse = sregs(cr3: 0xD000, cr4: GuestPageWalk.cr4PSE)
        XCTAssertEqual(GuestPageWalk.physicalAddress(ofLinear: 0x40_0123, sregs: pse, memory: memory), 0x40_0123, "a 4 MiB page")
        XCTAssertNil(
            GuestPageWalk.physicalAddress(ofLinear: 0x40_0123, sregs: paged, memory: memory),
            "without PSE the entry names a table, outside memory here")
    }
}
