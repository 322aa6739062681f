import GuestABI
import GuestPhysical
import KVM
import XCTest

@testable import HostRunner

/// TDG.VP.VMCALL sub-functions served through the vCPU's devices, as KVM's tdx.c answers
/// them (the GHCI's statuses): the registers as the guest loads them, the answer as it
/// finds it. No /dev/kvm.
final class TDVMCallServiceTests: XCTestCase {
    private let fixture = GuestDevicesFixture()
    private let host = TDXHost(width: .bits48, vcpuCount: 1, retriesToInject: 0)

    /// A standard TDVMCALL with R10-R15 exposed, as Linux's __tdx_hypercall loads it.
    private func call(_ subfunction: UInt64, r12: UInt64 = 0, r13: UInt64 = 0, r14: UInt64 = 0, r15: UInt64 = 0) -> TDCallRegisters {
        var registers = TDCallRegisters()
        registers.rcx = 0xFC00
        registers.r11 = subfunction
        registers.r12 = r12
        registers.r13 = r13
        registers.r14 = r14
        registers.r15 = r15
        return registers
    }

    private func serve(_ registers: TDCallRegisters, devices: GuestDevices? = nil) -> (answer: TDCallRegisters, finish: VCPUFinish?, events: [RunEvent]) {
        var answer = TDVMCallAnswer.subfunctionUnsupported, events: [RunEvent] = []
        let finish = host.serveSubfunction(
            registers, exposedMask: 0xFC00, devices: devices ?? fixture.devices, transport: .trap, vcpu: 0,
            events: &events, answer: &answer)
        var out = registers
        answer.apply(to: &out, exposedMask: 0xFC00)
        return (out, finish, events)
    }

    func testInstructionIOReachesTheReportChannel() {
        for byte in Array("td\n".utf8) {
            XCTAssertEqual(serve(call(TDVMCallSubfunction.io, r12: 1, r13: 1, r14: 0xE9, r15: UInt64(byte))).answer.r10, 0)
        }
        XCTAssertEqual(fixture.logLines, ["td"])
        let presence = serve(call(TDVMCallSubfunction.io, r12: 1, r13: 0, r14: 0xEA)).answer
        XCTAssertEqual([presence.r10, presence.r11], [0, 0xE7])
        let floating = serve(call(TDVMCallSubfunction.io, r12: 2, r13: 0, r14: 0x1234)).answer
        XCTAssertEqual(floating.r11, 0xFFFF, "zero-extended from two bytes")
        XCTAssertEqual(serve(call(TDVMCallSubfunction.io, r12: 4, r13: 1, r14: 0xF4, r15: 5)).finish, .exited(5))
    }

    /// Bad operands: an IO size of 3, a direction of 2, an unknown MSR (KVM's MSR
    /// emulation refuses it: INVALID_OPERAND).
    func testBadOperandsAndRefusedMSRsAnswerInvalidOperand() {
        let invalid = TDVMCallStatus.invalidOperand
        XCTAssertEqual(serve(call(TDVMCallSubfunction.io, r12: 3, r13: 1, r14: 0xE9)).answer.r10, invalid)
        XCTAssertEqual(serve(call(TDVMCallSubfunction.io, r12: 1, r13: 2, r14: 0xE9)).answer.r10, invalid)
        let rdmsr = serve(call(TDVMCallSubfunction.rdmsr, r12: 0x1234))
        XCTAssertEqual(rdmsr.answer.r10, invalid)
        XCTAssertEqual(serve(call(TDVMCallSubfunction.wrmsr, r12: 0x1234, r13: 1)).answer.r10, invalid)
        guard case .rejected = rdmsr.events.first else { return XCTFail("\(rdmsr.events)") }
        XCTAssertEqual(fixture.unserved, 2, "the two MSR accesses are counted as unserved; the bad operands never reached a device")
    }

    /// CPUID answers R12-R15 from the vCPU's list; the subleaf counts for indexed leaves.
    func testCPUIDAnswersFromTheVCPUsList() {
        let fixture = GuestDevicesFixture(cpuid: [
            CPUIDFixtures.e(0, 0, 0, 0x21, 0x756E_6547, 0x6C65_746E, 0x4965_6E69),
            CPUIDFixtures.e(7, 1, CPUIDAnswer.significantIndex, 0x10, 0, 0, 0),
        ])
        let leaf0 = serve(call(TDVMCallSubfunction.cpuid, r12: 0, r13: 5), devices: fixture.devices).answer
        XCTAssertEqual([leaf0.r10, leaf0.r12, leaf0.r13, leaf0.r14, leaf0.r15], [0, 0x21, 0x756E_6547, 0x6C65_746E, 0x4965_6E69])
        let leaf7 = serve(call(TDVMCallSubfunction.cpuid, r12: 7, r13: 0), devices: fixture.devices).answer
        XCTAssertEqual([leaf7.r12, leaf7.r13, leaf7.r14, leaf7.r15], [0, 0, 0, 0], "7.0 is not listed: zero")
    }

    /// #VE.RequestMMIO at a shared GPA with no device: all ones of the size; a private GPA
    /// is INVALID_OPERAND.
    func testRequestMMIOReadsAllOnesAndRefusesAPrivateGPA() {
        let shared: UInt64 = 1 << 47
        let read = serve(call(TDVMCallSubfunction.requestMMIO, r12: 2, r13: 0, r14: shared | 0xFEE0_0000)).answer
        XCTAssertEqual([read.r10, read.r11], [0, 0xFFFF])
        XCTAssertEqual(serve(call(TDVMCallSubfunction.requestMMIO, r12: 4, r13: 0, r14: 0xFEE0_0000)).answer.r10, TDVMCallStatus.invalidOperand)
    }

    func testGetTdVmCallInfoLeafZeroIsSuccessWithZeros() {
        var registers = call(TDVMCallSubfunction.getTdVmCallInfo)
        registers.r11 = TDVMCallSubfunction.getTdVmCallInfo
        registers.r12 = 0
        registers.r13 = 0x55
        let answer = serve(registers).answer
        XCTAssertEqual([answer.r10, answer.r11, answer.r12, answer.r13, answer.r14], [0, 0, 0, 0, 0])
    }

    /// HLT halts the vCPU in KVM until an interrupt wakes it; nothing here raises one, so
    /// the vCPU stops as halted, with or without interrupts blocked.
    func testHLTStopsTheVCPUAsHalted() {
        for blocked: UInt64 in [0, 1] {
            guard case .stopped(.halted)? = serve(call(TDVMCallSubfunction.hlt, r12: blocked)).finish else {
                return XCTFail("HLT (blocked \(blocked)) must halt the vCPU")
            }
        }
    }

    /// ReportFatalError ends the run as the guest's verdict, with its error code and the
    /// message from the exposed registers (R14 first).
    func testReportFatalErrorIsAVerdictWithCodeAndMessage() {
        let message = UInt64(littleEndian: "fatal!\0\0".utf8.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let result = serve(call(TDVMCallSubfunction.reportFatalError, r12: 0x2A, r14: message))
        XCTAssertEqual(result.finish, .stopped(.terminationRequested(.tdxFatalError(errorCode: 0x2A, gpa: nil, message: "fatal!"))))
        XCTAssertEqual(
            VCPUStop.terminationRequested(.tdxFatalError(errorCode: 0x2A, gpa: nil, message: "fatal!")).description,
            "the guest asked to terminate: ReportFatalError, error code 0x2a, message \"fatal!\"")
    }
}
