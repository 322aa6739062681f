import Foundation
import HostRunner
import Payload
import XCTest

/// What a hostile guest can make the host spend: bounded by the plan, the event budget and
/// the watchdog, whatever the guest does (docs/report-protocol.md, "Host limits").
final class HostLimitsTests: XCTestCase {
    /// One CHECKSUM record naming 3 GiB used to cost the host minutes of CPU and GiBs of
    /// memory after the guest had ended; now it is a malformed record, answered at once.
    func testChecksumBombIsMalformedAndCostsNothingAfterTheGuest() throws {
        let image = try KVMHost.build("checksum-bomb.asm")
        let started = ContinuousClock.now
        let result = try KVMHost.run(image)
        let elapsed = ContinuousClock.now - started
        XCTAssertLessThan(elapsed, .seconds(1), "the run took \(elapsed)")
        XCTAssertEqual(result.exitCodes, [0: 0])
        XCTAssertTrue(result.checksums.isEmpty, "\(result.checksums)")
        let malformed = result.events.compactMap { if case .malformedRecord(_, _, let reason) = $0 { reason } else { nil } }
        XCTAssertEqual(malformed, ["CHECKSUM 'bomb' names [0x0, 0xc0000000), which is not inside the ranges the plan populated"])
        XCTAssertFalse(result.passed)
    }

    /// The first N events of a kind are kept, the rest counted; a failed CHECK past the limit
    /// still fails the run.
    func testEventLogKeepsTheFirstNOfEachKindAndCountsTheRest() throws {
        let flood = try KVMHost.run(try KVMHost.build("value-flood.asm"), timeout: 1) { $0.maxEvents = 100 }
        let values = flood.events.filter { $0.kind == .value }
        XCTAssertEqual(values.count, 100)
        XCTAssertGreaterThan(flood.eventsNotKept[.value] ?? 0, 0, "\(flood.eventsNotKept)")
        guard case .timeout? = flood.stops.first?.reason else { return XCTFail("\(flood.failures)") }

        // checks.asm: CHECK answer (passes), CHECK deliberately-wrong (fails), VALUE cookie.
        let checks = try KVMHost.run(try KVMHost.build("checks.asm")) { $0.maxEvents = 1 }
        XCTAssertEqual(checks.events.filter { $0.kind == .check }.count, 1)
        XCTAssertEqual(checks.eventsNotKept[.check], 1)
        XCTAssertFalse(checks.passed)
        XCTAssertTrue(checks.failures.contains { $0.contains("1 more failed checks or checksums past the event limit") }, "\(checks.failures)")
    }

    /// The documented bound (docs/report-protocol.md): an `enlighten run`'s peak RSS stays
    /// under 128 MiB plus its guest RAM, here under a VALUE-record flood and a conversion
    /// loop, both with `--json` (which used to buffer the whole report: 1.6 GB for 800,000
    /// conversions).
    func testFloodsStayUnderTheHostMemoryBound() throws {
        _ = try KVMHost.system()
        let guest = 16 << 20
        let bound = (128 << 20) + guest
        let stubs = KVMHost.root.path + "/Tests/EndToEndTests/Stubs/"
        for (arguments, what) in [
            (["run", stubs + "value-flood.asm", "--timeout", "5", "--memory", "16M", "--json"], "VALUE flood"),
            (["run", stubs + "conversion-loop.asm", "--platform", "kvm", "--timeout", "15", "--memory", "16M", "--json"], "conversion loop"),
        ] {
            let peak = try EnlightenCLI.peak(arguments, for: Self.self)
            XCTAssertEqual(peak.status, 1, "\(what): the watchdog stops it, so the run fails")
            print("\(what): peak RSS \(peak.maximumResidentBytes >> 20) MiB (bound \(bound >> 20) MiB)")
            XCTAssertLessThan(peak.maximumResidentBytes, bound, what)
        }
    }
}
