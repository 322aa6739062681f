import Payload
import XCTest

@testable import HostRunner

/// What the runner does at an armed site, from the bytes an instruction fetch there reads now
/// (issue 18, "requests decoded from what the guest executes"). Encodings: vmcall 0F 01 C1,
/// vmmcall 0F 01 D9 (Linux asm/kvm_para.h KVM_HYPERCALL), VMGEXIT F3 0F 01 D9 (edk2
/// VmgExit.nasm `rep vmmcall`), PVALIDATE F2 0F 01 FF (Linux asm/sev.h), TDCALL 66 0F 01 CC
/// (Linux arch/x86/virt/vmx/tdx/tdxcall.S).
final class RequestSiteCheckTests: XCTestCase {
    private let encodings: [RequestInstruction: [UInt8]] = [
        .vmcall: [0x0F, 0x01, 0xC1], .vmmcall: [0x0F, 0x01, 0xD9], .vmgexit: [0xF3, 0x0F, 0x01, 0xD9],
        .pvalidate: [0xF2, 0x0F, 0x01, 0xFF], .tdcall: [0x66, 0x0F, 0x01, 0xCC],
    ]

    func testAnUnchangedSiteIsServedWhateverFollowsIt() {
        for (instruction, bytes) in encodings {
            let fetched = Array((bytes + [0x5B, 0xC3]).prefix(RequestInstruction.longest))
            XCTAssertEqual(RequestSiteCheck.action(armed: instruction, bytes: fetched, platform: instruction.platform), .serve(instruction), "\(instruction)")
        }
    }

    func testBytesThatAreNoRequestRunAsTheGuestWroteThem() {
        let cases: [(RequestInstruction, [UInt8], String)] = [
            (.vmcall, [0x90, 0x90, 0x90, 0x5B], "NOPs"),
            (.vmcall, [0x66, 0x0F, 0x01, 0xC1], "an operand-size prefix more"),
            (.vmgexit, [0x0F, 0x01, 0xD9, 0x90], "VMGEXIT without its REP: a vmmcall, not a GHCB request"),
            (.vmgexit, [0xF2, 0x0F, 0x01, 0xD9], "REPNE instead of REP"),
            (.pvalidate, [0xF3, 0x0F, 0x01, 0xFF], "PVALIDATE with REP for REPNE"),
            (.tdcall, [0x0F, 0x01, 0xCC], "TDCALL without its 66"),
            (.tdcall, [0x66, 0x0F, 0x01], "the last byte on an unmapped page"),
            (.vmmcall, [], "an unmapped RIP"),
            (.vmmcall, [0xCC, 0x0F, 0x01, 0xD9], "an INT3 in front"),
        ]
        for (armed, bytes, why) in cases {
            XCTAssertEqual(RequestSiteCheck.action(armed: armed, bytes: bytes, platform: armed.platform), .execute, why)
        }
    }

    /// Another request of the run's platform is served as what it is; one of another
    /// platform runs as the CPU runs it.
    func testAnotherRequestIsServedOnlyOnItsOwnPlatform() {
        XCTAssertEqual(RequestSiteCheck.action(armed: .vmcall, bytes: [0x0F, 0x01, 0xD9, 0x5B], platform: .kvm), .serve(.vmmcall))
        XCTAssertEqual(RequestSiteCheck.action(armed: .vmmcall, bytes: [0x0F, 0x01, 0xC1, 0x5B], platform: .kvm), .serve(.vmcall))
        XCTAssertEqual(RequestSiteCheck.action(armed: .vmgexit, bytes: [0xF2, 0x0F, 0x01, 0xFF], platform: .sevSNP), .serve(.pvalidate))
        XCTAssertEqual(RequestSiteCheck.action(armed: .pvalidate, bytes: [0xF3, 0x0F, 0x01, 0xD9], platform: .sevSNP), .serve(.vmgexit))
        XCTAssertEqual(RequestSiteCheck.action(armed: .vmcall, bytes: [0x66, 0x0F, 0x01, 0xCC], platform: .kvm), .execute)
        XCTAssertEqual(
            RequestSiteCheck.action(armed: .vmmcall, bytes: [0xF3, 0x0F, 0x01, 0xD9], platform: .kvm), .execute,
            "VMGEXIT on a KVM run: the CPU's (a vmmcall with a prefix it ignores), not the GHCB protocol")
        XCTAssertEqual(RequestSiteCheck.action(armed: .tdcall, bytes: [0xF2, 0x0F, 0x01, 0xFF], platform: .tdx), .execute)
        XCTAssertEqual(RequestSiteCheck.action(armed: .vmgexit, bytes: [0x0F, 0x01, 0xC1], platform: .sevSNP), .execute)
    }

    /// Without a platform every trapped site is armed, so that a request names the platform
    /// it needs: a rewritten one is handed on the same way.
    func testWithoutAPlatformAnyRequestIsHandedOn() {
        XCTAssertEqual(RequestSiteCheck.action(armed: .vmcall, bytes: [0x66, 0x0F, 0x01, 0xCC], platform: nil), .serve(.tdcall))
        XCTAssertEqual(RequestSiteCheck.action(armed: .vmcall, bytes: [0x90, 0x90, 0x90], platform: nil), .execute)
    }
}
