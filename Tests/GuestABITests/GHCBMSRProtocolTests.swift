import GuestABI
import XCTest

/// Values built by hand from the MSR layouts in Linux asm/sev-common.h.
final class GHCBMSRProtocolTests: XCTestCase {
    func testDecodesRequests() {
        XCTAssertEqual(GHCBMSRRequest(msr: 0x002), .sevInformation)
        XCTAssertEqual(GHCBMSRRequest(msr: 0x8000_0001_4000_0004), .cpuid(function: 0x8000_0001, register: 1))
        XCTAssertEqual(GHCBMSRRequest(msr: 0x010), .preferredGHCB)
        XCTAssertEqual(GHCBMSRRequest(msr: 0x0000_0000_0080_0012), .registerGHCB(gfn: 0x800))
        XCTAssertEqual(GHCBMSRRequest(msr: 0x0020_0000_1234_5014), .pageStateChange(gfn: 0x12345, operation: 2))
        XCTAssertEqual(GHCBMSRRequest(msr: 0x080), .hypervisorFeatures)
        XCTAssertEqual(GHCBMSRRequest(msr: 0x0002_1100), .terminate(reasonSet: 1, reasonCode: 2))
        XCTAssertEqual(GHCBMSRRequest(msr: 0xABC_DEF7FF), .unknown(info: 0x7FF, data: 0xABCDEF))
    }

    func testPSCBitsOutsideTheFieldsAreIgnored() {
        // Bits 63:56 are not part of the request (KVM masks with GENMASK 55:52 and 51:12).
        XCTAssertEqual(GHCBMSRRequest(msr: 0xFF10_0000_0000_1014), .pageStateChange(gfn: 1, operation: 1))
    }

    func testEncodesRequests() {
        XCTAssertEqual(GHCBMSRRequest.pageStateChange(gfn: 0x12345, operation: 1).msrValue, 0x0010_0000_1234_5014)
        XCTAssertEqual(GHCBMSRRequest.registerGHCB(gfn: 0xF_FFFF_FFFF_FFFF).msrValue, 0xFFFF_FFFF_FFFF_F012)
        XCTAssertEqual(GHCBMSRRequest.terminate(reasonSet: 0, reasonCode: 1).msrValue, 0x10100)
    }

    func testResponses() {
        XCTAssertEqual(GHCBMSRResponse.sevInformation(maxVersion: 2, minVersion: 1, cBitPosition: 51), 0x0002_0001_3300_0001)
        XCTAssertEqual(GHCBMSRResponse.registerGHCB(gfn: 0x800), 0x80_0013)
        XCTAssertEqual(GHCBMSRResponse.hypervisorFeatures(0x3), 0x3081)
        XCTAssertEqual(GHCBMSRResponse.cpuid(request: 0x8000_0001_4000_0004, value: 0xDEAD_BEEF), 0xDEAD_BEEF_4000_0005)
        XCTAssertEqual(GHCBMSRResponse.pageStateChange(error: 0), 0x015)
        XCTAssertEqual(GHCBMSRProtocol.pageStateChangeError, 0x8000_0000_0000_0015)
    }

    func testPSCConversion() throws {
        let shared = try XCTUnwrap(GHCBMSRProtocol.conversion(gfn: 0x12345, operation: 2))
        XCTAssertEqual(shared.start, 0x1234_5000)
        XCTAssertEqual(shared.pageCount, 1)
        XCTAssertEqual(shared.direction, .toShared)
        XCTAssertEqual(shared.pageSize, .size4K)
        XCTAssertEqual(shared.origin, .ghcbMSR)
        XCTAssertEqual(GHCBMSRProtocol.conversion(gfn: 7, operation: 1)?.direction, .toPrivate)
        // PSMASH/UNSMASH and undefined operations get KVM's immediate error instead.
        for operation: UInt8 in [0, 3, 4, 5, 15] {
            XCTAssertNil(GHCBMSRProtocol.conversion(gfn: 7, operation: operation), "op \(operation)")
        }
        XCTAssertEqual(GHCBMSRProtocol.pageStateChangeResponse(for: .converted), 0x015)
        XCTAssertEqual(GHCBMSRProtocol.pageStateChangeResponse(for: .hostFailure), 0x8000_0000_0000_0015)
    }
}
