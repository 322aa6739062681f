import GuestABI
import XCTest

/// The MSR-protocol CPUID request (0x004) and response (0x005) and the termination
/// request (0x100), from Linux asm/sev-common.h and sev.c
/// `sev_handle_vmgexit_msr_protocol`.
final class GHCBMSRCPUIDTests: XCTestCase {
    func testCPUIDRequestFields() {
        // GHCBData[63:32] function, [31:30] register (2 = ECX).
        XCTAssertEqual(GHCBMSRRequest(msr: 0x0000_000D_8000_0004), .cpuid(function: 0xD, register: 2))
    }

    func testResponseKeepsGHCBData31To12AsWritten() {
        // KVM edits the request in place: only [63:32] and the info field change.
        let request: UInt64 = 0x8000_0000_C000_1004 // EDX selector and a stray bit 12
        XCTAssertEqual(GHCBMSRResponse.cpuid(request: request, value: 0x2C10_0800), 0x2C10_0800_C000_1005)
    }

    func testTerminationRequest() {
        // reason set [15:12] = 1, reason code [23:16] = 3 (Linux GHCB_TERM_NOT_VMPL0).
        XCTAssertEqual(GHCBMSRRequest(msr: 0x3_1100), .terminate(reasonSet: 1, reasonCode: 3))
    }
}
