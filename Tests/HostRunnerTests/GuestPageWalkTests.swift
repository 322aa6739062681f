import GuestPhysical
import XCTest

@testable import HostRunner

/// The guest's 4-level tables read forwards (a GVA's GPA, for PVALIDATE) and backwards (a
/// GPA's linear addresses, for the GLA of an EPT violation), over tables built here by hand
/// with the x86 entry format (Intel SDM vol. 3 §4.5: P bit 0, PS bit 7, address bits 51:12).
final class GuestPageWalkTests: XCTestCase {
    private static let pml4: UInt64 = 0x1000, pdpt: UInt64 = 0x2000, pd: UInt64 = 0x3000, pt: UInt64 = 0x4000
    private static let lowPDPT: UInt64 = 0x5000, lowPD: UInt64 = 0x6000
    private static let table: UInt64 = 0b11 // present, writable
    private static let large: UInt64 = 0b1000_0011 // present, writable, PS

    private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 0x7000, alignment: 4096)
    private var memory: GuestMemory { GuestMemory(regions: [.init(name: "tables", range: GPARange(start: 0, end: 0x7000), base: buffer.baseAddress!)]) }

    override func setUp() {
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }

    override func tearDown() {
        buffer.deallocate()
    }

    private func set(_ table: UInt64, _ index: Int, _ entry: UInt64) {
        buffer.storeBytes(of: entry, toByteOffset: Int(table) + index * 8, as: UInt64.self)
    }

    /// GVA 0xFFFF800000000000 + 1 GiB + 2 MiB * 3 -> a 2 MiB leaf at 0x40000000; GVA 5 * 4 KiB
    /// (PML4[0] -> PDPT[0] -> PD[0] -> PT[5]) -> 0x7000.
    private func buildTables() {
        set(Self.pml4, 256, Self.pdpt | Self.table)
        set(Self.pdpt, 1, Self.pd | Self.table)
        set(Self.pd, 3, 0x4000_0000 | Self.large)
        set(Self.pml4, 0, Self.lowPDPT | Self.table)
        set(Self.lowPDPT, 0, Self.lowPD | Self.table)
        set(Self.lowPD, 0, Self.pt | Self.table)
        set(Self.pt, 5, 0x7000 | Self.table)
    }

    func testForwardAndBackwardWalksAgree() {
        buildTables()
        let high: UInt64 = 0xFFFF_8000_0000_0000 + (1 << 30) + 3 * (2 << 20) + 0x123
        XCTAssertEqual(GuestPageWalk.translate(high, cr3: Self.pml4, memory: memory), 0x4000_0123)
        XCTAssertEqual(GuestPageWalk.linearAddresses(mapping: 0x4000_0123, cr3: Self.pml4, memory: memory), [high])
        XCTAssertEqual(GuestPageWalk.translate(5 * 0x1000 + 0x18, cr3: Self.pml4, memory: memory), 0x7018)
        XCTAssertEqual(GuestPageWalk.linearAddresses(mapping: 0x7018, cr3: Self.pml4, memory: memory), [0x5018])
    }

    func testAGPAMappedNowhereOrTwiceHasNoSingleLinearAddress() {
        buildTables()
        XCTAssertEqual(GuestPageWalk.linearAddresses(mapping: 0x9000, cr3: Self.pml4, memory: memory), [])
        set(Self.pt, 6, 0x7000 | Self.table)
        XCTAssertEqual(GuestPageWalk.linearAddresses(mapping: 0x7000, cr3: Self.pml4, memory: memory), [0x5000, 0x6000])
    }

    /// A table reached by two paths maps two linear ranges: both are found.
    func testATableSharedByTwoPathsMapsBothRanges() {
        buildTables()
        set(Self.pml4, 1, Self.lowPDPT | Self.table)
        XCTAssertEqual(GuestPageWalk.linearAddresses(mapping: 0x7000, cr3: Self.pml4, memory: memory), [0x5000, (1 << 39) + 0x5000])
    }

    /// A table pointing at itself in every entry (512^3 paths to its leaves) and an entry
    /// pointing outside guest memory: the search stops at its budget and says it did.
    func testHostileTablesEndTheSearch() {
        for index in 0..<512 { set(Self.pml4, index, Self.pml4 | Self.table) }
        set(Self.pml4, 7, 0xFFFF_F000 | Self.table)
        XCTAssertNil(GuestPageWalk.linearAddresses(mapping: 0x9000, cr3: Self.pml4, memory: memory))
        XCTAssertEqual(GuestPageWalk.linearAddresses(mapping: 0x1000, cr3: Self.pml4, memory: memory, limit: 4)?.count, 4)
    }
}
