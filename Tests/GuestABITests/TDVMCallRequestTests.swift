import GuestABI
import XCTest

/// TDG.VP.VMCALL subfunctions decoded and answered as KVM's tdx.c does, with the
/// numbers of the GHCI and Linux: R10 = 0 standard, R11 = 10 CPUID, 12 HLT, 30 IO,
/// 31 RDMSR, 32 WRMSR, 48 #VE.RequestMMIO, 0x10000 GetTdVmCallInfo, 0x10003
/// ReportFatalError; statuses SUCCESS 0, INVALID_OPERAND 0x8000000000000000,
/// SUBFUNC_UNSUPPORTED 0x8000000000000003.
final class TDVMCallRequestTests: XCTestCase {
    let invalidOperand: UInt64 = 0x8000_0000_0000_0000
    let unsupported: UInt64 = 0x8000_0000_0000_0003
    let width = TDXGuestPhysicalAddressWidth.bits48
    let sharedBit: UInt64 = 1 << 47

    /// The registers a guest loads, as Linux arch/x86/coco/tdx/tdx.c does.
    func call(
        _ r11: UInt64, r12: UInt64 = 0, r13: UInt64 = 0, r14: UInt64 = 0, r15: UInt64 = 0,
        rbx: UInt64 = 0, rdi: UInt64 = 0, rsi: UInt64 = 0, r8: UInt64 = 0, r9: UInt64 = 0, rdx: UInt64 = 0,
        mask: UInt16 = 0xFC00
    ) -> TDVMCallDecoded {
        var registers = TDCallRegisters()
        registers.rcx = UInt64(mask)
        registers.r11 = r11
        registers.r12 = r12
        registers.r13 = r13
        registers.r14 = r14
        registers.r15 = r15
        registers.rbx = rbx
        registers.rdi = rdi
        registers.rsi = rsi
        registers.r8 = r8
        registers.r9 = r9
        registers.rdx = rdx
        return TDVMCallRequest.decode(registers, exposedMask: mask, width: width)
    }

    func testInstructionIO() {
        XCTAssertEqual(call(30, r12: 1, r13: 1, r14: 0x3F8, r15: 0x41), .request(.portOut(port: 0x3F8, size: 1, value: 0x41)))
        XCTAssertEqual(call(30, r12: 4, r13: 0, r14: 0xCFC), .request(.portIn(port: 0xCFC, size: 4)))
        // KVM keeps only 16 bits of the port (unsigned short in its PIO emulation).
        XCTAssertEqual(call(30, r12: 2, r13: 0, r14: 0x1_0070), .request(.portIn(port: 0x70, size: 2)))
    }

    func testInstructionIOInvalidOperands() {
        for size: UInt64 in [0, 3, 8, 0x1_0000_0001] {
            XCTAssertEqual(call(30, r12: size, r13: 0, r14: 0x80), .answer(.invalidOperand, because: .invalidOperand(.size(size))))
        }
        for direction: UInt64 in [2, 0xFFFF_FFFF_FFFF_FFFF, 1 << 32] {
            XCTAssertEqual(
                call(30, r12: 1, r13: direction, r14: 0x80),
                .answer(.invalidOperand, because: .invalidOperand(.direction(direction))))
        }
    }

    func testCPUIDHLTAndMSRs() {
        XCTAssertEqual(call(10, r12: 0xFFFF_FFFF_0000_0007, r13: 1), .request(.cpuid(leaf: 7, subleaf: 1)))
        XCTAssertEqual(call(12, r12: 0), .request(.hlt(interruptsBlocked: false)))
        XCTAssertEqual(call(12, r12: 1), .request(.hlt(interruptsBlocked: true)))
        XCTAssertEqual(call(31, r12: 0x1B), .request(.msrRead(index: 0x1B)))
        XCTAssertEqual(
            call(32, r12: 0x6E0, r13: 0x1234_5678_9ABC_DEF0),
            .request(.msrWrite(index: 0x6E0, value: 0x1234_5678_9ABC_DEF0)))
    }

    func testRequestMMIO() {
        let gpa = sharedBit | 0xFED0_0000
        XCTAssertEqual(call(48, r12: 4, r13: 0, r14: gpa), .request(.mmioRead(gpa: 0xFED0_0000, size: 4)))
        XCTAssertEqual(call(48, r12: 8, r13: 1, r14: gpa, r15: 0xAA), .request(.mmioWrite(gpa: 0xFED0_0000, size: 8, value: 0xAA)))
        // tdx_emulate_mmio reads size and direction as int: the high halves are dropped.
        XCTAssertEqual(call(48, r12: 0x1_0000_0002, r13: 0x1_0000_0000, r14: gpa), .request(.mmioRead(gpa: 0xFED0_0000, size: 2)))
    }

    func testRequestMMIOInvalidOperands() {
        let gpa = sharedBit | 0xFED0_0000
        XCTAssertEqual(call(48, r12: 3, r13: 0, r14: gpa), .answer(.invalidOperand, because: .invalidOperand(.size(3))))
        XCTAssertEqual(call(48, r12: 16, r13: 0, r14: gpa), .answer(.invalidOperand, because: .invalidOperand(.size(16))))
        XCTAssertEqual(call(48, r12: 4, r13: 2, r14: gpa), .answer(.invalidOperand, because: .invalidOperand(.direction(2))))
        // Private (shared bit clear) first byte, and a last byte past the shared range.
        XCTAssertEqual(
            call(48, r12: 4, r13: 0, r14: 0xFED0_0000),
            .answer(.invalidOperand, because: .invalidOperand(.privateMMIOAddress(0xFED0_0000))))
        let top: UInt64 = (1 << 48) - 2 // shared bit set; top + 7 carries into bit 48, clearing bit 47
        XCTAssertEqual(
            call(48, r12: 8, r13: 0, r14: top),
            .answer(.invalidOperand, because: .invalidOperand(.privateMMIOAddress(top))))
    }

    func testGetTdVmCallInfo() {
        XCTAssertEqual(call(0x10000, r12: 0), .answer(.tdVmCallInfo, because: .served))
        XCTAssertEqual(call(0x10000, r12: 1), .request(.tdVmCallInfo))
        XCTAssertEqual(call(0x10000, r12: 2), .answer(.invalidOperand, because: .invalidOperand(.tdVmCallInfoLeaf(2))))
    }

    func testReportFatalError() {
        // "panic" in R14, zero-padded as Linux tdx_panic writes it.
        let message = call(0x10003, r12: 0, r14: 0x63_696E_6170, mask: 0xFFCC)
        XCTAssertEqual(message, .request(.reportFatalError(errorCode: 0, gpa: nil, message: Array("panic".utf8))))
        let withGPA = call(0x10003, r12: (1 << 63) | 0x1_0000, r13: 0x5000)
        XCTAssertEqual(withGPA, .request(.reportFatalError(errorCode: (1 << 63) | 0x1_0000, gpa: 0x5000, message: [])))
        // Only exposed message registers count: RBX hidden, R15 and RDI carry on the text.
        let registers = [UInt64(0x4141_4141_4141_4141), 0x4242_4242_4242_4242, 0x4343_4343_4343_4343, 0x44]
        let packed = call(
            0x10003, r14: registers[0], r15: registers[1], rbx: 0x5858, rdi: registers[3],
            mask: 0xFC00 | (1 << 7))
        XCTAssertEqual(
            packed,
            .request(
                .reportFatalError(
                    errorCode: 0, gpa: nil, message: Array(repeating: 0x41, count: 8) + Array(repeating: 0x42, count: 8) + [0x44])))
    }

    func testUnknownSubfunctionsAndGetQuote() {
        for subfunction: UInt64 in [0, 11, 49, 0x10004, 0x20000] {
            XCTAssertEqual(call(subfunction), .answer(.subfunctionUnsupported, because: .subfunctionUnsupported(subfunction)))
        }
        XCTAssertEqual(
            call(0x10002, r12: sharedBit | 0x1000, r13: 0x1000),
            .answer(.subfunctionUnsupported, because: .subfunctionUnsupported(0x10002)))
        XCTAssertEqual(
            call(0x10002, r12: 0x1000, r13: 0x1000),
            .answer(.invalidOperand, because: .invalidOperand(.privateQuoteBuffer(0x1000))))
    }

    func testMapGPAAndHypercallsPassThrough() {
        XCTAssertEqual(call(0x10001, r12: 0x1000, r13: 0x1000), .request(.conversion(.mapGPA(gpa: 0x1000, size: 0x1000))))
        var registers = TDCallRegisters()
        registers.r10 = 12
        registers.r11 = 0x1000
        XCTAssertEqual(
            TDVMCallRequest.decode(registers, exposedMask: 0xFC00, width: width),
            .request(.conversion(.kvmHypercall(nr: 12, a0: 0x1000, a1: 0, a2: 0, a3: 0))))
    }

    func testHiddenRegistersReadAsZero() {
        // R12/R13 hidden: IO of size 0, which is an invalid operand.
        XCTAssertEqual(
            call(30, r12: 1, r13: 1, r14: 0x80, mask: 0x0C00 | 0xC000),
            .answer(.invalidOperand, because: .invalidOperand(.size(0))))
    }

    // MARK: Answers

    func apply(_ answer: TDVMCallAnswer, mask: UInt16 = 0xFC00) -> TDCallRegisters {
        var registers = TDCallRegisters()
        registers.rax = 0x77
        registers.r10 = 0x5A
        registers.r11 = 0x5B
        registers.r12 = 0x5C
        registers.r13 = 0x5D
        registers.r14 = 0x5E
        registers.r15 = 0x5F
        answer.apply(to: &registers, exposedMask: mask)
        return registers
    }

    func testAnswersWriteStatusAndOutputs() {
        var registers = apply(.read(0xFFFF_FFFF_FFFF_FF41, size: 1))
        XCTAssertEqual([registers.rax, registers.r10, registers.r11, registers.r12], [0, 0, 0x41, 0x5C])
        registers = apply(.read(0x1122_3344_5566_7788, size: 8))
        XCTAssertEqual(registers.r11, 0x1122_3344_5566_7788)
        registers = apply(.msrRead(0x1_0000_0002))
        XCTAssertEqual(registers.r11, 0x1_0000_0002)
        registers = apply(.cpuid(eax: 1, ebx: 2, ecx: 3, edx: 4))
        XCTAssertEqual([registers.r10, registers.r11, registers.r12, registers.r13, registers.r14, registers.r15], [0, 0x5B, 1, 2, 3, 4])
        registers = apply(.tdVmCallInfo)
        XCTAssertEqual([registers.r10, registers.r11, registers.r12, registers.r13, registers.r14, registers.r15], [0, 0, 0, 0, 0, 0x5F])
        registers = apply(.invalidOperand)
        XCTAssertEqual([registers.r10, registers.r11], [invalidOperand, 0x5B])
        registers = apply(.subfunctionUnsupported)
        XCTAssertEqual(registers.r10, unsupported)
    }

    func testAnswersSkipHiddenRegisters() {
        // R12 and R13 hidden: CPUID's EAX and EBX never reach the guest.
        let registers = apply(.cpuid(eax: 1, ebx: 2, ecx: 3, edx: 4), mask: 0xCC00)
        XCTAssertEqual([registers.r12, registers.r13, registers.r14, registers.r15], [0x5C, 0x5D, 3, 4])
    }

    func testCompletionBridge() {
        let answer = TDVMCallAnswer(TDVMCallCompletion(status: 1, r11: 0x2000))
        XCTAssertEqual(answer, TDVMCallAnswer(status: 1, outputs: [.init(register: 11, value: 0x2000)]))
    }
}
