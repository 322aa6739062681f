import XCTest

@testable import HostRunner

/// Encodings written by hand from the Intel SDM vol. 2 instruction pages and ModRM/SIB
/// tables 2-1 to 2-3.
final class X87ControlDecoderTests: XCTestCase {
    private func decode(_ bytes: [UInt8], _ size: CodeSize = .bits64) throws -> DecodedX87Control {
        try X87ControlDecoder.decode(bytes, codeSize: size)
    }

    private func expectError(
        _ bytes: [UInt8], _ size: CodeSize = .bits64, _ expected: X87DecodeError,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try decode(bytes, size), file: file, line: line) { error in
            XCTAssertEqual(error as? X87DecodeError, expected, file: file, line: line)
        }
    }

    func testFinitIsTwoInstructions() throws {
        // FINIT = 9B DB E3: FWAIT, then FNINIT (SDM FINIT/FNINIT page).
        let wait = try decode([0x9B, 0xDB, 0xE3])
        XCTAssertEqual(wait.instruction, .fwait)
        XCTAssertEqual(wait.length, 1)
        XCTAssertNil(wait.memory)
        let initialize = try decode([0xDB, 0xE3, 0xD9, 0x2D])
        XCTAssertEqual(initialize.instruction, .fninit)
        XCTAssertEqual(initialize.length, 2)
    }

    func testFldcwRIPRelativeAsInOVMFSec() throws {
        // fldcw [rel mFpuControlWord]: D9 /5, ModRM 00 101 101 = 2D, disp32.
        let decoded = try decode([0xD9, 0x2D, 0x10, 0x00, 0x00, 0x00])
        XCTAssertEqual(decoded.instruction, .fldcw)
        XCTAssertEqual(decoded.length, 6)
        let memory = try XCTUnwrap(decoded.memory)
        XCTAssertTrue(memory.ripRelative)
        XCTAssertNil(memory.base)
        XCTAssertEqual(memory.displacement, 0x10)
        XCTAssertEqual(memory.effectiveAddress(register: { _ in 0 }, instructionEnd: 0xFFFD_27DA), 0xFFFD_27EA)
    }

    func testSameModRMIsAbsoluteIn32BitCode() throws {
        // ldmxcsr [0x1000]: 0F AE /2, ModRM 00 010 101 = 15, disp32 — no RIP in 32-bit code.
        let decoded = try decode([0x0F, 0xAE, 0x15, 0x00, 0x10, 0x00, 0x00], .bits32)
        XCTAssertEqual(decoded.instruction, .ldmxcsr)
        XCTAssertEqual(decoded.length, 7)
        let memory = try XCTUnwrap(decoded.memory)
        XCTAssertFalse(memory.ripRelative)
        XCTAssertEqual(memory.effectiveAddress(register: { _ in 0xDEAD }, instructionEnd: 0x5000), 0x1000)
    }

    func testStmxcsrBaseDisp8AsInSetJump() throws {
        // stmxcsr [rcx+0x50]: 0F AE /3, ModRM 01 011 001 = 59, disp8 50.
        let decoded = try decode([0x0F, 0xAE, 0x59, 0x50])
        XCTAssertEqual(decoded.instruction, .stmxcsr)
        XCTAssertEqual(decoded.length, 4)
        let memory = try XCTUnwrap(decoded.memory)
        XCTAssertEqual(memory.base, 1)
        XCTAssertEqual(memory.segment, .ds)
        XCTAssertEqual(memory.effectiveAddress(register: { $0 == 1 ? 0x7000 : 0 }, instructionEnd: 0), 0x7050)
    }

    func testFnstcwThroughSIBOnTheStack() throws {
        // fnstcw [rsp+8]: D9 /7, ModRM 01 111 100 = 7C, SIB 00 100 100 = 24 (no index, base rsp), disp8.
        let decoded = try decode([0xD9, 0x7C, 0x24, 0x08])
        XCTAssertEqual(decoded.instruction, .fnstcw)
        XCTAssertEqual(decoded.length, 4)
        let memory = try XCTUnwrap(decoded.memory)
        XCTAssertEqual(memory.base, 4)
        XCTAssertNil(memory.index)
        XCTAssertEqual(memory.segment, .ss)
    }

    func testScaledIndexWithoutBase() throws {
        // ldmxcsr [ecx*4+0x1000]: ModRM 00 010 100 = 14, SIB 10 001 101 = 8D, disp32 (32-bit code).
        let decoded = try decode([0x0F, 0xAE, 0x14, 0x8D, 0x00, 0x10, 0x00, 0x00], .bits32)
        XCTAssertEqual(decoded.length, 8)
        let memory = try XCTUnwrap(decoded.memory)
        XCTAssertNil(memory.base)
        XCTAssertEqual(memory.index, 1)
        XCTAssertEqual(memory.scale, 4)
        XCTAssertEqual(memory.effectiveAddress(register: { $0 == 1 ? 0x10 : 0 }, instructionEnd: 0), 0x1040)
    }

    func testREXExtendsTheBase() throws {
        // stmxcsr [r13+8]: REX.B (41), 0F AE, ModRM 01 011 101 = 5D, disp8.
        let decoded = try decode([0x41, 0x0F, 0xAE, 0x5D, 0x08])
        XCTAssertEqual(decoded.length, 5)
        XCTAssertEqual(decoded.memory?.base, 13)
    }

    func testSixteenBitAddressing() throws {
        // fldcw [0x1234]: ModRM 00 101 110 = 2E, disp16 (table 2-1).
        let direct = try decode([0xD9, 0x2E, 0x34, 0x12], .bits16)
        XCTAssertEqual(direct.length, 4)
        XCTAssertNil(direct.memory?.base)
        XCTAssertEqual(direct.memory?.effectiveAddress(register: { _ in 0xFFFF }, instructionEnd: 0), 0x1234)
        // fldcw [bp+si-1]: ModRM 01 101 010 = 6A, disp8 FF; BP-based, so SS; wraps at 64 KiB.
        let based = try decode([0xD9, 0x6A, 0xFF], .bits16)
        let memory = try XCTUnwrap(based.memory)
        XCTAssertEqual(based.length, 3)
        XCTAssertEqual(memory.base, 5)
        XCTAssertEqual(memory.index, 6)
        XCTAssertEqual(memory.segment, .ss)
        XCTAssertEqual(memory.effectiveAddress(register: { $0 == 5 ? 0xFFFF : 1 }, instructionEnd: 0), 0xFFFF)
        // 67h in 16-bit code switches to 32-bit addressing: ModRM 01 101 110 = 6E is [esi+disp8].
        let widened = try decode([0x67, 0xD9, 0x6E, 0x04], .bits16)
        XCTAssertEqual(widened.length, 4)
        XCTAssertEqual(widened.memory?.base, 6)
        XCTAssertEqual(widened.memory?.addressSize, .bits32)
    }

    func testSegmentOverrideAndLinearAddress() throws {
        // gs: fnstcw [rax]: 65 D9 38.
        let decoded = try decode([0x65, 0xD9, 0x38])
        let memory = try XCTUnwrap(decoded.memory)
        XCTAssertEqual(decoded.length, 3)
        XCTAssertEqual(memory.segment, .gs)
        XCTAssertTrue(memory.segmentOverridden)
        XCTAssertEqual(memory.linearAddress(effectiveAddress: 0x10, segmentBase: 0x1000, codeSize: .bits64), 0x1010)
        // DS's base does not apply in 64-bit mode but does in 32-bit code.
        let plain = try XCTUnwrap(try decode([0xD9, 0x38]).memory)
        XCTAssertEqual(plain.linearAddress(effectiveAddress: 0x10, segmentBase: 0x1000, codeSize: .bits64), 0x10)
        XCTAssertEqual(plain.linearAddress(effectiveAddress: 0x10, segmentBase: 0x1000, codeSize: .bits32), 0x1010)
    }

    func testRefusals() {
        expectError([0xF0, 0x9B], .bits64, .invalidOpcode) // LOCK: #UD
        expectError([0xD9, 0xE8], .bits64, .notHandled(opcode: [0xD9, 0xE8])) // FLD1 (register form)
        expectError([0x0F, 0xAE, 0xE8], .bits64, .notHandled(opcode: [0x0F, 0xAE, 0xE8])) // LFENCE
        expectError([0x66, 0x0F, 0xAE, 0x3A], .bits64, .notHandled(opcode: [0x0F, 0xAE, 0x3A])) // CLFLUSHOPT
        expectError([0xC5, 0xF8, 0xAE, 0x10], .bits64, .notHandled(opcode: [0xC5])) // VLDMXCSR
        expectError([0xD9, 0x2D, 0x00], .bits64, .truncated)
        expectError([UInt8](repeating: 0x2E, count: 15) + [0x9B], .bits64, .tooLong)
        // 0x41 is INC ECX outside 64-bit mode, not a REX prefix.
        expectError([0x41, 0x9B], .bits32, .notHandled(opcode: [0x41]))
    }

    func testFifteenBytesIsTheLimit() throws {
        XCTAssertEqual(try decode([UInt8](repeating: 0x2E, count: 14) + [0x9B]).length, 15)
    }
}
