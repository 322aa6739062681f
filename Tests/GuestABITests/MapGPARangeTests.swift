import GuestABI
import XCTest

/// Expectations from Linux x86.c (`____kvm_emulate_hypercall`, `complete_hypercall_exit`)
/// and kvm_para.h: nr 12, PAGE_SZ_2M = 1, PAGE_SZ_1G = 2, ENCRYPTED = 0x10,
/// -EINVAL = 0xFFFF_FFFF_FFFF_FFEA, -KVM_ENOSYS = -1000 = 0xFFFF_FFFF_FFFF_FC18.
final class MapGPARangeTests: XCTestCase {
    func decode(
        nr: UInt64 = 12, _ gpa: UInt64, _ npages: UInt64, _ attrs: UInt64,
        longMode: Bool = true, cpl: UInt8 = 0
    ) -> Result<ConversionRequest, KVMHypercallError> {
        Result { () throws(KVMHypercallError) in
            try MapGPARange.decode(nr: nr, a0: gpa, a1: npages, a2: attrs, longMode: longMode, cpl: cpl)
        }
    }

    func rax(_ result: Result<ConversionRequest, KVMHypercallError>, longMode: Bool = true) -> UInt64? {
        if case let .failure(error) = result { return error.returnValue(longMode: longMode) }
        return nil
    }

    func testDecodesPrivateAndShared() throws {
        let toPrivate = try decode(0x10_0000, 4, 0x10).get()
        XCTAssertEqual(toPrivate.start, 0x10_0000)
        XCTAssertEqual(toPrivate.pageCount, 4)
        XCTAssertEqual(toPrivate.direction, .toPrivate)
        XCTAssertEqual(toPrivate.pageSize, .size4K)
        XCTAssertEqual(toPrivate.origin, .kvmHypercall)

        let toShared = try decode(0x20_0000, 512, 0x1).get()
        XCTAssertEqual(toShared.direction, .toShared)
        XCTAssertEqual(toShared.pageSize, .size2M)
        XCTAssertEqual(try decode(0x4000_0000, 0x40000, 0x12).get().pageSize, .size1G)
    }

    func testErrorValuesAsTheGuestSeesThem() {
        XCTAssertEqual(rax(decode(0x1001, 1, 0)), 0xFFFF_FFFF_FFFF_FFEA)
        XCTAssertEqual(rax(decode(nr: 13, 0x1000, 1, 0)), 0xFFFF_FFFF_FFFF_FC18)
        XCTAssertEqual(rax(decode(0x1000, 1, 0, cpl: 3)), 0xFFFF_FFFF_FFFF_FFFF)
        // Outside long mode KVM truncates RAX to 32 bits.
        XCTAssertEqual(rax(decode(0x1001, 1, 0, longMode: false), longMode: false), 0xFFFF_FFEA)
    }

    func testKVMCheckOrder() {
        // CPL first, even for an unknown nr and bad arguments.
        XCTAssertEqual(decode(nr: 99, 0x1001, 0, 0xFF, cpl: 3), .failure(.notPermitted))
        // Unknown nr before argument checks.
        XCTAssertEqual(decode(nr: 99, 0x1001, 0, 0xFF), .failure(.notImplemented(nr: 99)))
        // Alignment before npages == 0.
        XCTAssertEqual(decode(0x1001, 0, 0), .failure(.invalidArgument(.unalignedAddress)))
        XCTAssertEqual(decode(0x1000, 0, 0), .failure(.invalidArgument(.zeroPages)))
        // gfn 1 + (2^64 - 1) pages wraps.
        XCTAssertEqual(decode(0x1000, .max, 0), .failure(.invalidArgument(.wraps)))
        // KVM's own checks come before our attribute policy.
        XCTAssertEqual(decode(0x1000, 0, 1 << 40), .failure(.invalidArgument(.zeroPages)))
    }

    func testHostAttributePolicy() {
        XCTAssertEqual(decode(0x1000, 1, 1 << 5), .failure(.invalidArgument(.reservedAttributes)))
        XCTAssertEqual(decode(0x1000, 1, 1 << 63), .failure(.invalidArgument(.reservedAttributes)))
        XCTAssertEqual(decode(0x1000, 1, 0x3), .failure(.invalidArgument(.unknownPageSize)))
        XCTAssertEqual(decode(0x1000, 1, 0x4), .failure(.invalidArgument(.unknownPageSize)))
        XCTAssertEqual(decode(0x1000, 1, 0x8), .failure(.invalidArgument(.unknownPageSize)))
    }

    func testThirtyTwoBitCallerIsMasked() throws {
        // nr with high garbage is 12 once masked; gpa high bits are dropped.
        let request = try decode(nr: 0xDEAD_0000_0000_000C, 0x1_0000_2000, 1, 0x10, longMode: false).get()
        XCTAssertEqual(request.start, 0x2000)
        // The same call from long mode is an unknown hypercall.
        XCTAssertEqual(rax(decode(nr: 0xDEAD_0000_0000_000C, 0x2000, 1, 0x10)), 0xFFFF_FFFF_FFFF_FC18)
    }

    func testWrapBoundary() throws {
        // Top frame 2^52 - 1 plus 2^64 - 2^52 + 1 pages reaches exactly 2^64: wraps.
        // One page fewer ends at frame 2^64 - 1, which KVM's `gfn + npages <= gfn` accepts.
        let top: UInt64 = 0xFFFF_FFFF_FFFF_F000
        XCTAssertEqual(decode(top, (0 &- (1 << 52)) + 1, 0), .failure(.invalidArgument(.wraps)))
        XCTAssertEqual(try decode(top, 0 &- (1 << 52), 0).get().range.endFrame, UInt128(UInt64.max))
    }

    func testEncoderRoundTrip() throws {
        let request = try decode(0x30_0000, 1024, 0x11).get()
        let args = MapGPARange.encode(request)
        XCTAssertEqual(args, MapGPARangeArguments(nr: 12, gpa: 0x30_0000, npages: 1024, attributes: 0x11))
        XCTAssertEqual(try decode(nr: args.nr, args.gpa, args.npages, args.attributes).get(), request)
    }

    func testOutcomeReturnValues() {
        XCTAssertEqual(MapGPARange.returnValue(for: .converted, longMode: true), 0)
        XCTAssertEqual(MapGPARange.returnValue(for: .invalidRequest, longMode: true), 0xFFFF_FFFF_FFFF_FFEA)
        XCTAssertEqual(MapGPARange.returnValue(for: .outsideGuestMemory, longMode: true), 0xFFFF_FFFF_FFFF_FFF2)
        XCTAssertEqual(MapGPARange.returnValue(for: .hostFailure, longMode: false), 0xFFFF_FFEA)
    }
}
