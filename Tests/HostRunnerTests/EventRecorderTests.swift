import XCTest

@testable import HostRunner

/// What a vCPU keeps of its run, and what it counts of what it does not, without /dev/kvm.
final class EventRecorderTests: XCTestCase {
    private func recorder(maxEvents: Int = 100, logLimit: Int = 1 << 20) -> EventRecorder {
        EventRecorder(vcpu: 0, budget: EventBudget(limit: maxEvents), logLimit: logLimit)
    }

    func testTheRecorderCountsFailuresAndLogBytesPastItsLimits() {
        let recorder = recorder(maxEvents: 1, logLimit: 8)
        recorder.keep(record: .check(name: "a", actual: 1, expected: 2, passed: false))
        recorder.keep(record: .check(name: "b", actual: 1, expected: 2, passed: false))
        recorder.keep(record: .check(name: "c", actual: 2, expected: 2, passed: true))
        XCTAssertEqual(recorder.failuresNotKept, 1, "the second failed CHECK is past the budget but still a failure")
        recorder.keep(checksum: .checksum(name: "s", gpa: 0, length: 1, crc: 1), .init(name: "s", gpa: 0, length: 1, guest: 1, host: 1))
        recorder.keep(checksum: .checksum(name: "t", gpa: 0, length: 1, crc: 1), .init(name: "t", gpa: 0, length: 1, guest: 1, host: 2))
        XCTAssertEqual(recorder.checksums.count, 1)
        XCTAssertEqual(recorder.failuresNotKept, 2, "the mismatched CHECKSUM past the budget counts as a failure")
        recorder.keepLog("12345")
        recorder.keepLog("6789")
        XCTAssertEqual(recorder.droppedLogBytes, 4, "the second line would pass the 8-byte log limit")
        recorder.keepLog("ab")
        XCTAssertEqual(recorder.droppedLogBytes, 6, "the budget keeps one log line")
        recorder.pending.append(.exited(vcpu: 0, code: 0))
        recorder.keepPending()
        XCTAssertTrue(recorder.pending.isEmpty)
        XCTAssertEqual(recorder.events.last, .exited(vcpu: 0, code: 0))
    }
}
