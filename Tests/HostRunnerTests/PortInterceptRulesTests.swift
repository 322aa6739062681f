import GuestABI
import XCTest

@testable import HostRunner

/// The platforms' answers to a raw port instruction and the decoding that finds it, pure
/// (no /dev/kvm): SEV-SNP #VC 0x7B, TDX #VE exit reason 30 with the I/O qualification, KVM
/// none (the access reaches the device).
final class PortInterceptRulesTests: XCTestCase {
    func testPortInstructionsDecodeAsTheSDMEncodesThem() {
        XCTAssertEqual(
            PortInstruction.decode([0xEE][...]), PortInstruction(length: 1, immediatePort: nil, isIn: false, size: 1, isString: false, isRep: false))
        XCTAssertEqual(
            PortInstruction.decode([0xEF][...]), PortInstruction(length: 1, immediatePort: nil, isIn: false, size: 4, isString: false, isRep: false))
        XCTAssertEqual(
            PortInstruction.decode([0x66, 0xED][...]),
            PortInstruction(length: 2, immediatePort: nil, isIn: true, size: 2, isString: false, isRep: false))
        XCTAssertEqual(
            PortInstruction.decode([0xE6, 0x80][...]), PortInstruction(length: 2, immediatePort: 0x80, isIn: false, size: 1, isString: false, isRep: false))
        XCTAssertEqual(
            PortInstruction.decode([0xE5, 0x71][...]), PortInstruction(length: 2, immediatePort: 0x71, isIn: true, size: 4, isString: false, isRep: false))
        XCTAssertEqual(
            PortInstruction.decode([0xF3, 0x6E][...]), PortInstruction(length: 2, immediatePort: nil, isIn: false, size: 1, isString: true, isRep: true))
        XCTAssertNil(PortInstruction.decode([0x90][...]), "NOP")
        XCTAssertNil(PortInstruction.decode([0xE6][...]), "imm8 missing")
    }

    /// At RIP (KVM's fast path has not moved it) or ending exactly at RIP (its emulator retired
    /// the OUT), and only the instruction the exit reports.
    func testTheInstructionIsFoundAtOrJustBeforeRIP() {
        let behind: [UInt8] = [0x90, 0x90, 0x90, 0xBA, 0xE9, 0xEE] // … mov dl?, out dx, al
        let ahead: [UInt8] = [0x31, 0xC0, 0xC3, 0x90, 0x90, 0x90] // xor eax, eax; ret
        let retired = PortInstruction.locate(behind + ahead, lookBehind: 6, port: 0xE9, isIn: false, size: 1, dx: 0xE9)
        XCTAssertEqual(retired?.offset, -1)
        let pending = PortInstruction.locate([0x90] + [0xEE, 0xC3], lookBehind: 1, port: 0xE9, isIn: false, size: 1, dx: 0xE9)
        XCTAssertEqual(pending?.offset, 0)
        XCTAssertNil(PortInstruction.locate([0x90] + [0xEE, 0xC3], lookBehind: 1, port: 0xEA, isIn: false, size: 1, dx: 0xE9), "another port")
        XCTAssertNil(PortInstruction.locate([0x90] + [0xEE, 0xC3], lookBehind: 1, port: 0xE9, isIn: true, size: 1, dx: 0xE9), "an IN")
        XCTAssertNil(PortInstruction.locate([0x90] + [0xEE, 0xC3], lookBehind: 1, port: 0xE9, isIn: false, size: 4, dx: 0xE9), "4 bytes")
    }

    private func access(_ bytes: [UInt8], port: UInt16) throws -> InterceptedPort {
        InterceptedPort(port: port, instruction: try XCTUnwrap(PortInstruction.decode(bytes[...])), at: "raw_out")
    }

    func testSEVSNPRaisesVCWithTheIOIOExitCode() throws {
        guard case .inject(let vector, let error, let cr2, let remembered, _) = SNPPortIntercept.fault(try access([0xEE], port: 0xE9), vcpu: 0)
        else { return XCTFail("not an exception") }
        XCTAssertEqual(vector, 29)
        XCTAssertEqual(error, 0x7B)
        XCTAssertNil(cr2)
        XCTAssertEqual(remembered?.cause, "IOIO intercept: OUT of 1 byte at port 0xe9, not executed")
    }

    func testTDXRaisesVEWithExitReason30AndTheIOQualification() throws {
        XCTAssertEqual(TDXModule.ioQualification(try access([0xEE], port: 0xE9)), 0x00E9_0000)
        XCTAssertEqual(TDXModule.ioQualification(try access([0xE5, 0x71], port: 0x71)), 0x0071_0000 | 3 | 1 << 3 | 1 << 6)
        XCTAssertEqual(TDXModule.ioQualification(try access([0xF3, 0x66, 0x6F], port: 0x3F8)), 0x03F8_0000 | 1 | 1 << 4 | 1 << 5)

        var module = TDXModule(width: .bits48, vcpuCount: 1, attributes: 0)
        guard case .inject(20, nil, nil, _, _) = module.ioException(for: try access([0xEE], port: 0xE9), vcpu: 0) else {
            return XCTFail("not #VE")
        }
        XCTAssertEqual(module.pendingVEInfo, .init(exitReason: 30, exitQualification: 0xE9_0000, gla: 0, gpa: 0, instructionLength: 1))
        // VE_INFO still valid: #DF, as for an EPT violation.
        guard case .inject(8, _, _, _, _) = module.ioException(for: try access([0xEE], port: 0xE9), vcpu: 0) else {
            return XCTFail("not #DF")
        }
    }

    func testKVMLetsPortIOReachTheDevice() {
        XCTAssertFalse(KVMVCPU(index: 0).interceptsPortIO)
        XCTAssertNil(KVMVCPU(index: 0).portIntercept(InterceptedPort(port: 0xE9, instruction: PortInstruction.decode([0xEE][...])!, at: "x")))
    }
}
