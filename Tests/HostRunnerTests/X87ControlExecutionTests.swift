import KVM
import XCTest

@testable import HostRunner

/// The state changes of the Intel SDM vol. 2 pages of FWAIT, FNINIT, FLDCW, FNSTCW,
/// LDMXCSR and STMXCSR, with their protected-mode exception tables.
final class X87ControlExecutionTests: XCTestCase {
    private let cr0NE: UInt64 = 1 << 5, cr0TS: UInt64 = 1 << 3, cr0EM: UInt64 = 1 << 2, cr0MP: UInt64 = 1 << 1
    private let cr4OSFXSR: UInt64 = 1 << 9
    private var longMode: X87ControlContext { X87ControlContext(cr0: 0x8000_0011 | cr0NE, cr4: 0x20 | cr4OSFXSR) }

    private func dirty() -> X87ControlState {
        X87ControlState(
            controlWord: 0x0040, statusWord: 0x3800, abridgedTagWord: 0x81, lastOpcode: 0x5D9,
            lastInstructionPointer: 0x1234, lastDataPointer: 0x5678, mxcsr: 0x1F80)
    }

    func testFninitLoadsTheInitialisationValues() {
        var state = dirty()
        XCTAssertEqual(X87ControlExecution.perform(.fninit, on: &state, context: longMode), .completed)
        // FCW 037FH, FSW 0, FTW FFFFH (abridged 00H), pointers and opcode 0; MXCSR untouched.
        XCTAssertEqual(state, X87ControlState(controlWord: 0x037F, statusWord: 0, abridgedTagWord: 0, mxcsr: 0x1F80))
    }

    func testFninitDoesNotWaitButNeedsTheFPU() {
        var state = dirty()
        state.controlWord = 0x0000
        state.statusWord = 0x0001 // invalid-operation flag, unmasked: pending
        XCTAssertEqual(X87ControlExecution.perform(.fninit, on: &state, context: longMode), .completed)
        var other = dirty()
        let emulated = X87ControlContext(cr0: longMode.cr0 | cr0EM, cr4: longMode.cr4)
        XCTAssertEqual(X87ControlExecution.perform(.fninit, on: &other, context: emulated), .fault(.deviceNotAvailable))
        XCTAssertEqual(other, dirty())
    }

    func testFwaitIsANoOpWithoutPendingUnmaskedException() {
        var state = dirty()
        state.statusWord = 0x0001
        state.controlWord = 0x037F // flag set but masked: not pending
        let before = state
        XCTAssertEqual(X87ControlExecution.perform(.fwait, on: &state, context: longMode), .completed)
        XCTAssertEqual(state, before)
        let onlyTS = X87ControlContext(cr0: longMode.cr0 | cr0TS, cr4: longMode.cr4)
        XCTAssertEqual(X87ControlExecution.perform(.fwait, on: &state, context: onlyTS), .completed)
        let mpAndTS = X87ControlContext(cr0: longMode.cr0 | cr0TS | cr0MP, cr4: longMode.cr4)
        XCTAssertEqual(X87ControlExecution.perform(.fwait, on: &state, context: mpAndTS), .fault(.deviceNotAvailable))
    }

    func testFwaitReportsAPendingUnmaskedException() {
        var state = dirty()
        state.statusWord = 0x0004 // ZE
        state.controlWord = 0x037B // ZM clear
        XCTAssertEqual(X87ControlExecution.perform(.fwait, on: &state, context: longMode), .fault(.floatingPointError))
        let noNE = X87ControlContext(cr0: longMode.cr0 & ~cr0NE, cr4: longMode.cr4)
        XCTAssertEqual(X87ControlExecution.perform(.fwait, on: &state, context: noNE), .legacyFloatingPointError)
    }

    func testFldcwLoadsTheControlWordOnly() {
        var state = dirty()
        XCTAssertEqual(X87ControlExecution.perform(.fldcw, on: &state, context: longMode, operand: 0xAB_027F), .completed)
        var expected = dirty()
        expected.controlWord = 0x027F
        XCTAssertEqual(state, expected)
        // A waiting instruction: a pending unmasked exception is raised first, nothing loaded.
        var pending = dirty()
        pending.statusWord = 0x0001
        pending.controlWord = 0x037E
        XCTAssertEqual(
            X87ControlExecution.perform(.fldcw, on: &pending, context: longMode, operand: 0x037F),
            .fault(.floatingPointError))
        XCTAssertEqual(pending.controlWord, 0x037E)
    }

    func testStoresGiveTheValueAndWidth() {
        var state = dirty()
        XCTAssertEqual(X87ControlExecution.perform(.fnstcw, on: &state, context: longMode), .store(value: 0x0040, bytes: 2))
        XCTAssertEqual(X87ControlExecution.perform(.stmxcsr, on: &state, context: longMode), .store(value: 0x1F80, bytes: 4))
        XCTAssertEqual(state, dirty())
    }

    func testLdmxcsrChecksReservedBitsAgainstTheMask() {
        var state = dirty()
        XCTAssertEqual(X87ControlExecution.perform(.ldmxcsr, on: &state, context: longMode, operand: 0x1FC0), .completed)
        XCTAssertEqual(state.mxcsr, 0x1FC0)
        // Bit 16 is reserved under MXCSR_MASK 0000FFFFH: #GP(0), MXCSR unchanged.
        XCTAssertEqual(
            X87ControlExecution.perform(.ldmxcsr, on: &state, context: longMode, operand: 0x1_1F80),
            .fault(.generalProtection))
        XCTAssertEqual(state.mxcsr, 0x1FC0)
        // Without DAZ in the mask (the SDM's default 0000FFBFH), bit 6 is reserved too.
        XCTAssertEqual(
            X87ControlExecution.perform(.ldmxcsr, on: &state, context: longMode, operand: 0x1FC0, mxcsrMask: 0xFFBF),
            .fault(.generalProtection))
    }

    func testSSEControlNeedsOSFXSRAndAFreeFPU() {
        var state = dirty()
        let noOSFXSR = X87ControlContext(cr0: longMode.cr0, cr4: 0x20)
        XCTAssertEqual(X87ControlExecution.perform(.ldmxcsr, on: &state, context: noOSFXSR, operand: 0x1F80), .fault(.invalidOpcode))
        let emulated = X87ControlContext(cr0: longMode.cr0 | cr0EM | cr0TS, cr4: longMode.cr4)
        XCTAssertEqual(X87ControlExecution.perform(.stmxcsr, on: &state, context: emulated), .fault(.invalidOpcode))
        let switched = X87ControlContext(cr0: longMode.cr0 | cr0TS, cr4: longMode.cr4)
        XCTAssertEqual(X87ControlExecution.perform(.ldmxcsr, on: &state, context: switched, operand: 0x1F80), .fault(.deviceNotAvailable))
        XCTAssertEqual(X86Exception.invalidOpcode.vector, 6)
        XCTAssertEqual(X86Exception.deviceNotAvailable.vector, 7)
        XCTAssertEqual(X86Exception.generalProtection.vector, 13)
        XCTAssertEqual(X86Exception.floatingPointError.vector, 16)
    }

    func testOVMFInitializeFloatingPointUnitsSequence() throws {
        // UefiCpuPkg/Library/BaseUefiCpuLib/X64/InitializeFpu.nasm: finit; fldcw [037FH]; (CR4.OSFXSR); ldmxcsr [1F80H].
        var area = XSAVEArea()
        area.fcw = 0x0040
        area.mxcsr = 0
        area.store(UInt8(0xAA), at: 160) // XMM0's first byte (FXSAVE offset 160)
        var state = X87ControlState(area)
        let steps: [(X87ControlInstruction, UInt32)] = [(.fwait, 0), (.fninit, 0), (.fldcw, 0x037F), (.ldmxcsr, 0x1F80)]
        for (instruction, operand) in steps {
            XCTAssertEqual(X87ControlExecution.perform(instruction, on: &state, context: longMode, operand: operand), .completed)
        }
        let result = state.applied(to: area)
        XCTAssertEqual(result.fcw, 0x037F)
        XCTAssertEqual(result.fsw, 0)
        XCTAssertEqual(result.abridgedTagWord, 0)
        XCTAssertEqual(result.mxcsr, 0x1F80)
        XCTAssertEqual(result.xstateBV & 0b11, 0b11) // XRSTOR must load x87 and SSE
        XCTAssertEqual(result.load(160, as: UInt8.self), 0xAA)
    }
}
