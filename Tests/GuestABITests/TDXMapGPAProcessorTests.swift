import GuestABI
import GuestPhysical
import XCTest

/// KVM's MapGPA service (tdx.c `tdx_map_gpa` and friends): INVALID_OPERAND
/// 0x8000_0000_0000_0000, ALIGN_ERROR 0x8000_0000_0000_0002, RETRY 1, each error
/// with R11 = the guest's GPA; chunks of at most 2 MiB with the shared bit stripped.
final class TDXMapGPAProcessorTests: XCTestCase {
    let invalidOperand: UInt64 = 0x8000_0000_0000_0000
    let alignError: UInt64 = 0x8000_0000_0000_0002
    let shared47: UInt64 = 1 << 47

    func refusal(_ gpa: UInt64, _ size: UInt64, _ width: TDXGuestPhysicalAddressWidth = .bits48) -> TDVMCallCompletion? {
        do {
            _ = try TDXMapGPAProcessor(gpa: gpa, size: size, width: width)
            return nil
        } catch {
            return error.completion
        }
    }

    func testSmallPrivateConversion() throws {
        var processor = try TDXMapGPAProcessor(gpa: 0x1000, size: 0x3000, width: .bits48)
        let host = RecordingHost()
        XCTAssertEqual(processor.run(host: host.serve), TDVMCallCompletion(status: 0))
        XCTAssertEqual(
            host.requests,
            [
                ConversionRequest(
                    range: try GPARange(start: 0x1000, pageCount: 3), direction: .toPrivate, pageSize: .size4K, origin: .tdxMapGPA)
            ])
    }

    func testSharedConversionInTwoMegabyteChunks() throws {
        var processor = try TDXMapGPAProcessor(gpa: shared47 | 0x20_0000, size: 0x50_0000, width: .bits48)
        let host = RecordingHost()
        XCTAssertEqual(processor.run(host: host.serve), TDVMCallCompletion(status: 0))
        XCTAssertEqual(host.requests.map(\.start), [0x20_0000, 0x40_0000, 0x60_0000])
        XCTAssertEqual(host.requests.map(\.pageCount), [512, 512, 256])
        XCTAssertTrue(host.requests.allSatisfy { $0.direction == .toShared })
    }

    func testInvalidOperands() {
        XCTAssertEqual(refusal(0x1000, 0), TDVMCallCompletion(status: invalidOperand, r11: 0x1000))
        XCTAssertEqual(refusal(0xFFFF_FFFF_FFFF_F000, 0x2000)?.status, invalidOperand)
        XCTAssertEqual(refusal(1 << 48, 0x1000)?.status, invalidOperand)
        XCTAssertEqual(refusal((1 << 48) - 0x1000, 0x2000)?.status, invalidOperand)
        XCTAssertEqual(refusal(shared47 - 0x1000, 0x2000), TDVMCallCompletion(status: invalidOperand, r11: shared47 - 0x1000))
        // With GPAW 52 bit 47 is an ordinary address bit and bit 51 the shared one.
        XCTAssertNil(refusal(shared47 - 0x1000, 0x2000, .bits52))
        XCTAssertEqual(refusal((1 << 51) - 0x1000, 0x2000, .bits52)?.status, invalidOperand)
    }

    func testAlignmentAfterOperandChecks() {
        XCTAssertEqual(refusal(0x1800, 0x1000), TDVMCallCompletion(status: alignError, r11: 0x1800))
        XCTAssertEqual(refusal(0x1000, 0x1800), TDVMCallCompletion(status: alignError, r11: 0x1000))
        // Unaligned and crossing the shared bit: INVALID_OPERAND wins.
        XCTAssertEqual(refusal(shared47 - 0x800, 0x1000)?.status, invalidOperand)
        // Unaligned size of 0 is INVALID_OPERAND too.
        XCTAssertEqual(refusal(0x1800, 0)?.status, invalidOperand)
    }

    func testRetryAndResume() throws {
        let start = shared47 | 0x100_0000
        let host = RecordingHost()
        var first = try TDXMapGPAProcessor(gpa: start, size: 0x50_0000, width: .bits48)
        let retry = first.run(retryAfterChunk: { $0 == 1 }, host: host.serve)
        XCTAssertEqual(retry, TDVMCallCompletion(status: 1, r11: start + 0x20_0000))
        // The guest resumes from R11 with what is left.
        let resumeAt = try XCTUnwrap(retry.r11)
        var second = try TDXMapGPAProcessor(gpa: resumeAt, size: start + 0x50_0000 - resumeAt, width: .bits48)
        XCTAssertEqual(second.run(host: host.serve), TDVMCallCompletion(status: 0))
        XCTAssertEqual(host.requests.map(\.start), [0x100_0000, 0x120_0000, 0x140_0000])
        XCTAssertEqual(host.requests.reduce(0) { $0 + $1.pageCount }, 0x500)
    }

    func testStepByStep() throws {
        var processor = try TDXMapGPAProcessor(gpa: 0, size: 0x40_0000, width: .bits52)
        let host = RecordingHost()
        XCTAssertEqual(processor.currentChunk.start, 0)
        XCTAssertEqual(processor.step(host: host.serve), .continuing)
        XCTAssertEqual(processor.next, 0x20_0000)
        XCTAssertEqual(processor.step(host: host.serve), .finished(TDVMCallCompletion(status: 0)))
        XCTAssertEqual(host.requests.count, 2)
    }

    func testRetryOnTheLastChunkIsStillSuccess() throws {
        // KVM checks for pending events only when work remains.
        var processor = try TDXMapGPAProcessor(gpa: 0, size: 0x1000, width: .bits48)
        XCTAssertEqual(processor.step(injectRetry: true) { _ in .converted }, .finished(TDVMCallCompletion(status: 0)))
    }

    func testHostFailureNamesTheFailingChunk() throws {
        let start = shared47 | 0x20_0000
        var processor = try TDXMapGPAProcessor(gpa: start, size: 0x60_0000, width: .bits48)
        let host = RecordingHost()
        host.answer = { $0 == 2 ? .hostFailure : .converted }
        XCTAssertEqual(processor.run(host: host.serve), TDVMCallCompletion(status: invalidOperand, r11: start + 0x20_0000))
        XCTAssertEqual(host.requests.count, 2)
    }
}
