import Foundation
import HostRunner
import KVM
import Payload
import XCTest

final class RunnerEndToEndTests: XCTestCase {
    func testHelloLogsAndExitsZeroInBothLayouts() throws {
        for layout in Layout.allCases {
            let result = try KVMHost.run(try KVMHost.build("hello", layout: layout))
            XCTAssertTrue(result.logLines.contains { $0.contains("hello") }, "\(layout): \(result.logLines)")
            XCTAssertEqual(result.exitCodes, [0: 0], "\(layout)")
            XCTAssertTrue(result.passed, "\(layout): \(result.failures)")
        }
    }

    /// The guest's checksum of its pre-populated payload equals the host's checksum of the
    /// plan's bytes, computed here independently from the ELF's segments.
    func testGuestChecksumMatchesThePlannedBytes() throws {
        let image = try KVMHost.build("hello")
        let result = try KVMHost.run(image)
        let reported = result.events.compactMap { event -> (UInt64, UInt64, UInt32)? in
            if case .record(_, .checksum("payload", let gpa, let length, let crc)) = event { (gpa, length, crc) } else { nil }
        }
        XCTAssertEqual(reported.count, 1)
        let (gpa, length, crc) = try XCTUnwrap(reported.first)
        let payload = try XCTUnwrap(image.plan.ranges.first { $0.name == "payload.measured" })
        XCTAssertEqual(gpa, payload.range.start)
        // hello's payload: 2048 dwords 0x454E0000 + i (GuestStubs/scenarios/hello.asm).
        let expectedBytes = (0..<2048).flatMap { index in withUnsafeBytes(of: (UInt32(0x454E_0000) + UInt32(index)).littleEndian, Array.init) }
        XCTAssertEqual(length, UInt64(expectedBytes.count))
        XCTAssertEqual(crc, CRC32C.checksum(expectedBytes))
        XCTAssertEqual(result.checksums.map(\.matches), [true])
    }

    func testTripleFaultIsSymbolized() throws {
        let result = try KVMHost.run(try KVMHost.build("triple-fault.asm"))
        XCTAssertFalse(result.passed)
        guard case .tripleFault(let at)? = result.stops.first?.reason else { return XCTFail("\(result.failures)") }
        XCTAssertTrue(at.hasPrefix("fault_here"), at)
    }

    func testLoopingGuestIsStoppedWithinTimeoutPlusOneSecond() throws {
        // Timed from the start of the run: building the stub is not the watchdog's business.
        let image = try KVMHost.build("spin.asm")
        let started = Date()
        let result = try KVMHost.run(image, timeout: 0.5)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertLessThan(elapsed, 0.5 + 1.0)
        guard case .timeout(_, let at)? = result.stops.first?.reason else { return XCTFail("\(result.failures)") }
        XCTAssertTrue(at.hasPrefix("spin_here"), at)
        XCTAssertTrue(result.logLines.contains("spinning"))
    }

    func testUnmappedGPAIsReportedWithTheGPA() throws {
        let result = try KVMHost.run(try KVMHost.build("unmapped.asm"))
        guard case .unmappedAccess(let gpa, let isWrite, let at)? = result.stops.first?.reason else { return XCTFail("\(result.failures)") }
        XCTAssertEqual(gpa, 0x8000_0000)
        XCTAssertFalse(isWrite)
        XCTAssertTrue(at.hasPrefix("touch_here"), at)
    }

    func testGarbageRecordsAreReportedAndTheFloodStopped() throws {
        let result = try KVMHost.run(try KVMHost.build("flood.asm"))
        let malformed = result.events.filter { if case .malformedRecord = $0 { true } else { false } }
        XCTAssertEqual(malformed.count, 64)
        XCTAssertEqual(result.stops.first?.reason, .reportFlood(malformed: 64))
        let reasons = malformed.compactMap { if case .malformedRecord(_, _, let reason) = $0 { reason } else { nil } }
        XCTAssertEqual(reasons.filter { $0.contains("does not lie inside guest RAM") }.count, 32)
        XCTAssertEqual(reasons.filter { $0.hasPrefix("bad magic") }.count, 32)
    }

    func testFailedChecksFailTheRunByName() throws {
        let result = try KVMHost.run(try KVMHost.build("checks.asm"))
        XCTAssertEqual(result.exitCodes, [0: 0])
        XCTAssertFalse(result.passed)
        XCTAssertEqual(result.failures, ["check 'deliberately-wrong' failed: got 0x7, expected 0x8"])
        XCTAssertTrue(result.events.contains(.record(vcpu: 0, .value(name: "cookie", value: 0x1234))))
    }

    func testPlanBeyondGuestMemoryIsRefusedBeforeRunning() throws {
        let image = try KVMHost.build("too-big.asm")
        XCTAssertThrowsError(try KVMHost.run(image)) { error in
            XCTAssertEqual("\(error)", "the image's plan needs guest RAM up to 0x8200000 but the guest has 0x4000000 (raise --memory)")
        }
        let bigger = try KVMHost.run(image) { $0.memory = 256 << 20 }
        XCTAssertTrue(bigger.passed, "\(bigger.failures)")
    }

    func testSeveralVCPUsEachRunMain() throws {
        let result = try KVMHost.run(try KVMHost.build("hello")) { $0.vcpus = 3 }
        XCTAssertEqual(result.exitCodes, [0: 0, 1: 0, 2: 0])
        XCTAssertEqual(result.checksums.count, 3)
        XCTAssertTrue(result.passed, "\(result.failures)")
    }
}
