import Payload
import XCTest

@testable import HostRunner

/// Whose a debug exception KVM reports is, and the DR6 the guest reads once it is delivered
/// (issue 20, finding 8).
final class GuestDebugExceptionTests: XCTestCase {
    private let sites: [(address: UInt64, instruction: RequestInstruction)] = [(0x1000, .vmmcall), (0x2000, .vmgexit)]

    func testTheRunnersBreakpointIsASiteHit() {
        XCTAssertEqual(GuestDebugException.classify(exception: 1, dr6: 0xFFFF_0FF1, pc: 0x1000, sites: sites, opcode: { nil }), .site(.vmmcall))
        XCTAssertEqual(GuestDebugException.classify(exception: 1, dr6: 0xFFFF_0FF2, pc: 0x2000, sites: sites, opcode: { nil }), .site(.vmgexit))
    }

    func testASingleStepIsTheGuestsEvenWhenItLandsOnASite() {
        XCTAssertEqual(
            GuestDebugException.classify(exception: 1, dr6: 0xFFFF_4FF0, pc: 0x1234, sites: sites, opcode: { nil }),
            .guest(payload: 0x4000, skip: 0))
        XCTAssertEqual(
            GuestDebugException.classify(exception: 1, dr6: 0xFFFF_4FF0, pc: 0x1000, sites: sites, opcode: { nil }),
            .guest(payload: 0x4000, skip: 0), "the trap of the instruction before the site")
    }

    func testADebugExceptionWithoutACauseIsAnICEBP() {
        XCTAssertEqual(
            GuestDebugException.classify(exception: 1, dr6: 0xFFFF_0FF0, pc: 0x3000, sites: sites, opcode: { 0xF1 }),
            .guest(payload: 0, skip: 1), "the exit came before it retired (VMX)")
        XCTAssertEqual(
            GuestDebugException.classify(exception: 1, dr6: 0xFFFF_0FF0, pc: 0x3001, sites: sites, opcode: { 0x90 }),
            .guest(payload: 0, skip: 0), "already past it")
        XCTAssertEqual(GuestDebugException.classify(exception: 3, dr6: 0, pc: 0x3000, sites: sites, opcode: { 0xCC }), .unexpected)
    }

    /// x86.c kvm_deliver_exception_payload: B0–B3 cleared, the active-low bits set, the
    /// payload's causes set, bit 12 clear; other sticky bits kept.
    func testDR6IsWhatKVMLeavesWhenItDeliversThePayload() {
        XCTAssertEqual(GuestDebugException.dr6(delivering: 0x4000, over: 0xFFFF_0FF0), 0xFFFF_4FF0)
        XCTAssertEqual(GuestDebugException.dr6(delivering: 0x4000, over: 0xFFFF_0FF3), 0xFFFF_4FF0, "B0-B3 of an earlier hit cleared")
        XCTAssertEqual(GuestDebugException.dr6(delivering: 0, over: 0xFFFF_2FF0), 0xFFFF_2FF0, "an ICEBP adds no cause, keeps BD")
        XCTAssertEqual(GuestDebugException.dr6(delivering: 0x1, over: 0), 0xFFFF_0FF1)
    }
}
