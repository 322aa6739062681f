import XCTest

@testable import HostRunner

/// Instruction lengths and memory operands against encodings assembled by nasm (listed beside
/// each, nasm -f bin -l), so the expected values do not come from the decoder.
final class X86InstructionTests: XCTestCase {
    private func decode(_ bytes: [UInt8]) -> X86Instruction? { X86Instruction.decode(bytes[...]) }

    func testLengthsOfCommonInstructions() {
        let cases: [([UInt8], Int, Bool)] = [
            ([0x48, 0x89, 0x00], 3, true), // mov [rax], rax
            ([0x89, 0x18], 2, true), // mov [rax], ebx
            ([0x48, 0x89, 0x5C, 0x24, 0x08], 5, true), // mov [rsp+8], rbx
            ([0x48, 0x89, 0x1D, 0x10, 0x00, 0x00, 0x00], 7, true), // mov [rel $+0x17], rbx
            ([0xC7, 0x00, 0x78, 0x56, 0x34, 0x12], 6, true), // mov dword [rax], 0x12345678
            ([0x48, 0xC7, 0x04, 0x25, 0x00, 0x00, 0x40, 0x00, 0x2A, 0x00, 0x00, 0x00], 12, true), // mov qword [0x400000], 42
            ([0x66, 0xC7, 0x00, 0x34, 0x12], 5, true), // mov word [rax], 0x1234
            ([0xC6, 0x40, 0x10, 0x07], 4, true), // mov byte [rax+0x10], 7
            ([0x48, 0x83, 0x00, 0x01], 4, true), // add qword [rax], 1
            ([0xF0, 0x48, 0x0F, 0xB1, 0x0A], 5, true), // lock cmpxchg [rdx], rcx
            ([0x48, 0xB8, 1, 2, 3, 4, 5, 6, 7, 8], 10, false), // mov rax, imm64
            ([0xF7, 0x00, 0x01, 0x00, 0x00, 0x00], 6, true), // test dword [rax], 1
            ([0xF7, 0x18], 2, true), // neg dword [rax]
            ([0x0F, 0x11, 0x00], 3, true), // movups [rax], xmm0
            ([0xC5, 0xFC, 0x11, 0x00], 4, true), // vmovups [rax], ymm0
            ([0x66, 0x0F, 0x3A, 0x16, 0x00, 0x01], 6, true), // pextrd [rax], xmm0, 1
            ([0xF2, 0x0F, 0x01, 0xFF], 4, false), // pvalidate
            ([0x50], 1, false), // push rax (implied)
        ]
        for (bytes, length, hasModRMMemory) in cases {
            let decoded = decode(bytes)
            XCTAssertEqual(decoded?.length, length, "\(bytes.map { String($0, radix: 16) })")
            if case .modRM? = decoded?.memory { XCTAssertTrue(hasModRMMemory, "\(bytes)") } else { XCTAssertFalse(hasModRMMemory, "\(bytes)") }
        }
    }

    func testOperands() {
        XCTAssertEqual(
            decode([0x48, 0x89, 0x5C, 0x24, 0x08])?.memory,
            .modRM(base: 4, index: nil, scale: 1, displacement: 8, ripRelative: false, addressSize32: false, segment: nil))
        XCTAssertEqual(
            decode([0x4A, 0x89, 0x44, 0xC5, 0xF0])?.memory, // mov [rbp+r8*8-0x10], rax
            .modRM(base: 5, index: 8, scale: 8, displacement: -0x10, ripRelative: false, addressSize32: false, segment: nil))
        XCTAssertEqual(
            decode([0x48, 0x89, 0x1D, 0x10, 0x00, 0x00, 0x00])?.memory,
            .modRM(base: nil, index: nil, scale: 1, displacement: 0x10, ripRelative: true, addressSize32: false, segment: nil))
        XCTAssertEqual(
            decode([0x64, 0x41, 0x89, 0x01])?.memory, // mov [fs:r9], eax
            .modRM(base: 9, index: nil, scale: 1, displacement: 0, ripRelative: false, addressSize32: false, segment: 0x64))
    }

    /// 32-bit protected mode (OVMF's reset vector): no REX, an absolute disp32 where 64-bit
    /// mode is RIP-relative, 32-bit addresses (nasm `bits 32`).
    func testThirtyTwoBitCode() {
        let absolute = X86Instruction.decode([0xC6, 0x05, 0x00, 0xB0, 0x80, 0x00, 0x00][...], bits32: true) // mov byte [0x80b000], 0
        XCTAssertEqual(absolute?.length, 7)
        XCTAssertEqual(
            absolute?.memory, .modRM(base: nil, index: nil, scale: 1, displacement: 0x80_B000, ripRelative: false, addressSize32: true, segment: nil))
        XCTAssertEqual(X86Instruction.decode([0x40][...], bits32: true)?.length, 1) // inc eax, not a REX prefix
        XCTAssertEqual(
            X86Instruction.decode([0x66, 0x89, 0x14, 0x48][...], bits32: true)?.memory, // mov [eax+ecx*2], dx
            .modRM(base: 0, index: 1, scale: 2, displacement: 0, ripRelative: false, addressSize32: true, segment: nil))
        XCTAssertEqual(X86Instruction.decode([0x66, 0xC7, 0x04, 0x48, 0x00, 0x04][...], bits32: true)?.operandBytes, 2) // mov word [eax+ecx*2], 0x400
        XCTAssertNil(X86Instruction.decode([0x67, 0x89, 0x00][...], bits32: true)) // 16-bit addressing: not decoded
    }

    func testTruncatedAndInvalidEncodingsAreRefused() {
        XCTAssertNil(decode([0x48, 0x89])) // no ModRM
        XCTAssertNil(decode([0x48, 0x89, 0x04])) // no SIB
        XCTAssertNil(decode([0xC7, 0x00, 0x78])) // short immediate
        XCTAssertNil(decode([0x06])) // push es: invalid in 64-bit mode
        XCTAssertNil(decode(Array(repeating: 0x66, count: 15) + [0x90])) // longer than 15 bytes
    }
}
