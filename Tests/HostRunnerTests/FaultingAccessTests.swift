import GuestPhysical
import KVM
import XCTest

@testable import HostRunner

/// Finding the instruction behind a retired write, and the linear address an access used, in a
/// hand-built identity-mapped guest (4 KiB pages, tables at 0x1000–0x4000, code at 0x5000).
final class FaultingAccessTests: XCTestCase {
    private static let code: UInt64 = 0x5000
    private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 0x6000, alignment: 4096)
    private var memory: GuestMemory { GuestMemory(regions: [.init(name: "ram", range: GPARange(start: 0, end: 0x6000), base: buffer.baseAddress!)]) }

    override func setUp() {
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        let entries: [(UInt64, Int, UInt64)] = [(0x1000, 0, 0x2003), (0x2000, 0, 0x3003), (0x3000, 0, 0x4003)]
        for (table, index, entry) in entries { buffer.storeBytes(of: entry, toByteOffset: Int(table) + index * 8, as: UInt64.self) }
        for page in 0..<6 { buffer.storeBytes(of: UInt64(page) << 12 | 3, toByteOffset: 0x4000 + page * 8, as: UInt64.self) }
    }

    override func tearDown() { buffer.deallocate() }

    private func place(_ bytes: [UInt8]) -> UInt64 {
        for (offset, byte) in bytes.enumerated() { buffer[Int(Self.code) + offset] = byte }
        return Self.code + UInt64(bytes.count)
    }

    private var sregs: SpecialRegisters {
        var sregs = SpecialRegisters()
        sregs.cr3 = 0x1000
        return sregs
    }

    /// `mov eax, 0x48000000; mov [rax], ebx` (nasm: B8 00 00 00 48, 89 18): the bytes before RIP
    /// also decode as `mov [rax], rbx` (48 89 18); the 4-byte write says which it was.
    func testTheWriteSizeTellsAPrefixFromThePreviousInstructionsLastByte() {
        let end = place([0xB8, 0x00, 0x00, 0x00, 0x48, 0x89, 0x18])
        var regs = Registers()
        regs.rax = 0x120
        XCTAssertEqual(
            FaultingAccess.instructionStart(ripAfter: end, wrote: 0x120, bytes: 4, regs: regs, sregs: sregs, memory: memory, encryptionMask: 0), end - 2)
        XCTAssertEqual(
            FaultingAccess.instructionStart(ripAfter: end, wrote: 0x120, bytes: 8, regs: regs, sregs: sregs, memory: memory, encryptionMask: 0), end - 3)
        XCTAssertNil(
            FaultingAccess.instructionStart(ripAfter: end, wrote: 0x2120, bytes: 4, regs: regs, sregs: sregs, memory: memory, encryptionMask: 0),
            "no candidate writes there")
    }

    /// `lock cmpxchg [rdx], rcx` (F0 48 0F B1 0A): its suffixes are instructions too; the whole
    /// one is taken.
    func testNestedPrefixesAreTakenWhole() {
        let end = place([0x90, 0xF0, 0x48, 0x0F, 0xB1, 0x0A])
        var regs = Registers()
        regs.rdx = 0x3F8
        XCTAssertEqual(
            FaultingAccess.instructionStart(ripAfter: end, wrote: 0x3F8, bytes: 8, regs: regs, sregs: sregs, memory: memory, encryptionMask: 0), end - 5)
    }

    /// `mov rax, [rax]` (48 8B 00) reading 8 bytes at 0xFFC touches two pages: reported at
    /// 0xFFC in the first, at 0x1000 where it enters the second. `mov rax, [rel $-0xF9]`
    /// (48 8B 05 00 FF FF FF at 0x5000) is relative to the next instruction: 0x4F07.
    func testLinearAddressOfPageCrossingAndRIPRelativeAccesses() {
        _ = place([0x48, 0x8B, 0x00])
        var regs = Registers()
        regs.rax = 0xFFC
        XCTAssertEqual(
            FaultingAccess.linearAddress(instructionAt: Self.code, accessed: 0xFFC, regs: regs, sregs: sregs, memory: memory, encryptionMask: 0), 0xFFC)
        XCTAssertEqual(
            FaultingAccess.linearAddress(instructionAt: Self.code, accessed: 0x1000, regs: regs, sregs: sregs, memory: memory, encryptionMask: 0), 0x1000)
        XCTAssertNil(FaultingAccess.linearAddress(instructionAt: Self.code, accessed: 0x2000, regs: regs, sregs: sregs, memory: memory, encryptionMask: 0))
        _ = place([0x48, 0x8B, 0x05, 0x00, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(
            FaultingAccess.linearAddress(instructionAt: Self.code, accessed: 0x4F07, regs: Registers(), sregs: sregs, memory: memory, encryptionMask: 0), 0x4F07
        )
    }
}
