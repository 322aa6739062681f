import GuestPhysical
import Payload
import XCTest

@testable import HostRunner

/// The report channel and the event recorder over a plain buffer standing in for guest RAM:
/// port writes in, events out, no /dev/kvm.
final class ReportChannelTests: XCTestCase {
    private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 0x2000, alignment: 4096)
    private var memory: GuestMemory {
        GuestMemory(regions: [.init(name: "ram", range: GPARange(start: 0, end: 0x2000), base: buffer.baseAddress!)])
    }

    override func setUp() { buffer.initializeMemory(as: UInt8.self, repeating: 0) }
    override func tearDown() { buffer.deallocate() }

    /// A port exit's data bytes, as KVM's kvm_run would hold them.
    private final class Bytes: PortData {
        var storage: [UInt8]
        init(_ storage: [UInt8]) { self.storage = storage }
        var count: Int { storage.count }
        subscript(index: Int) -> UInt8 {
            get { storage[index] }
            set { storage[index] = newValue }
        }
    }

    private func channel(limit: Int = 64, checksum: UInt32? = 0xABCD) -> ReportChannel {
        ReportChannel(
            vcpu: 0, memory: memory, malformedRecordLimit: limit, plannedChecksum: { _, _ in checksum },
            symbolize: { "rip \(hex($0))" })
    }

    private func recorder(maxEvents: Int = 100, logLimit: Int = 1 << 20) -> EventRecorder {
        EventRecorder(vcpu: 0, budget: EventBudget(limit: maxEvents), logLimit: logLimit)
    }

    /// Writes a record at `gpa` as docs/report-protocol.md lays it out.
    private func place(type: UInt8, a: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0, d: UInt64 = 0, name: String = "", at gpa: Int) {
        let name = Array(name.utf8)
        buffer.storeBytes(of: UInt32(0x524C_4E45).littleEndian, toByteOffset: gpa, as: UInt32.self)
        buffer[gpa + 4] = type
        buffer[gpa + 5] = UInt8(name.count)
        buffer.storeBytes(of: UInt16(40 + name.count).littleEndian, toByteOffset: gpa + 6, as: UInt16.self)
        for (offset, value) in [a, b, c, d].enumerated() { buffer.storeBytes(of: value.littleEndian, toByteOffset: gpa + 8 + offset * 8, as: UInt64.self) }
        for (offset, byte) in name.enumerated() { buffer[gpa + 40 + offset] = byte }
    }

    private func out(
        _ channel: inout ReportChannel, _ port: UInt16, _ bytes: [UInt8], _ recorder: EventRecorder,
        size: Int = 1, count: Int = 1
    ) -> VCPUFinish? {
        channel.handle(port: port, isWrite: true, size: size, count: count, data: Bytes(bytes), recorder: recorder, injected: nil)
    }

    func testConsoleBytesBecomeLinesAtNewlinesAndAtTheEnd() {
        var channel = channel(), recorder = recorder()
        XCTAssertNil(out(&channel, ReportPort.debugConsole, Array("hello\nwor".utf8), recorder))
        XCTAssertNil(out(&channel, ReportPort.debugConsole, Array("ld".utf8), recorder))
        XCTAssertEqual(recorder.events, [.log(vcpu: 0, line: "hello")])
        channel.flush(recorder)
        XCTAssertEqual(recorder.events, [.log(vcpu: 0, line: "hello"), .log(vcpu: 0, line: "world")])
    }

    func testALineWithoutNewlineIsCutAtTheLongestLine() {
        var channel = channel(), recorder = recorder()
        XCTAssertNil(out(&channel, ReportPort.debugConsole, [UInt8](repeating: UInt8(ascii: "x"), count: ReportChannel.longestLine + 1), recorder))
        XCTAssertEqual(recorder.events, [.log(vcpu: 0, line: String(repeating: "x", count: ReportChannel.longestLine))])
    }

    func testRecordsAreReadFromGuestMemoryAndChecksumsComparedWithTheHost() {
        place(type: 1, a: 7, b: 7, c: 1, name: "ok", at: 0x100)
        place(type: 2, a: 0x1000, b: 0x10, c: 0xABCD, name: "sum", at: 0x200)
        var channel = channel(), recorder = recorder()
        XCTAssertNil(out(&channel, ReportPort.record, [0x00, 0x01, 0, 0], recorder, size: 4))
        XCTAssertNil(out(&channel, ReportPort.record, [0x00, 0x02, 0, 0], recorder, size: 4))
        XCTAssertEqual(
            recorder.events,
            [
                .record(vcpu: 0, .check(name: "ok", actual: 7, expected: 7, passed: true)),
                .record(vcpu: 0, .checksum(name: "sum", gpa: 0x1000, length: 0x10, crc: 0xABCD)),
            ])
        XCTAssertEqual(recorder.checksums, [RunResult.ChecksumComparison(name: "sum", gpa: 0x1000, length: 0x10, guest: 0xABCD, host: 0xABCD)])
    }

    func testAChecksumOutsideThePlanIsMalformedAndNamesTheRange() {
        place(type: 2, a: 0xFFFF_FFFF_FFFF_F000, b: 0x2000, c: 1, name: "far", at: 0x100)
        var channel = channel(checksum: nil), recorder = recorder()
        XCTAssertNil(out(&channel, ReportPort.record, [0x00, 0x01, 0, 0], recorder, size: 4))
        XCTAssertEqual(
            recorder.events,
            [
                .malformedRecord(
                    vcpu: 0, gpa: 0x100,
                    reason: "CHECKSUM 'far' names [0xfffffffffffff000, 2^64 + 0x1000), which is not inside the ranges the plan populated")
            ])
    }

    func testTooManyMalformedRecordsStopTheVCPU() {
        var channel = channel(limit: 2), recorder = recorder()
        XCTAssertNil(out(&channel, ReportPort.record, [0x00, 0x01], recorder, size: 2))
        XCTAssertEqual(out(&channel, ReportPort.record, [0x00, 0x30, 0, 0], recorder, size: 4), .stopped(.reportFlood(malformed: 2)))
        XCTAssertEqual(recorder.events.count, 2)
        XCTAssertEqual(channel.malformed, 2)
    }

    func testARecordPastGuestMemoryIsMalformed() {
        var channel = channel(), recorder = recorder()
        XCTAssertNil(out(&channel, ReportPort.record, [0x00, 0x00, 0x01, 0], recorder, size: 4))
        XCTAssertEqual(recorder.events, [.malformedRecord(vcpu: 0, gpa: 0x10000, reason: ReportRecordError.outsideMemory.description)])
    }

    func testAnExceptionRecordStopsNamingTheInjectedCause() {
        place(type: 4, a: 29, b: 0x404, c: 0x5000, d: 0x7000, at: 0x100)
        let channel = channel()
        let finish = channel.handle(
            port: ReportPort.record, isWrite: true, size: 2, count: 1, data: Bytes([0x00, 0x01]), recorder: recorder(),
            injected: InjectedException(vector: 29, cause: "why"))
        XCTAssertEqual(finish, .stopped(.exception(vector: 29, errorCode: 0x404, at: "rip 0x5000 (why)", cr2: 0x7000)))
    }

    func testTheExitPortEndsTheRunAndReadsAnswerThePresenceByte() {
        var channel = channel(), recorder = recorder()
        XCTAssertEqual(out(&channel, ReportPort.exit, [3, 0, 0, 0], recorder, size: 4), .exited(3))
        let read = Bytes([0, 0, 0, 0])
        XCTAssertNil(channel.handle(port: ReportPort.record, isWrite: false, size: 1, count: 4, data: read, recorder: recorder, injected: nil))
        XCTAssertEqual(read.storage, [ReportPort.presence, ReportPort.presence, ReportPort.presence, ReportPort.presence])
    }

    func testUnknownPortsReadAsAFloatingBusAndOnlyTheFirstAreLogged() {
        let channel = channel(), recorder = recorder(maxEvents: 10_000)
        for _ in 0..<(EventRecorder.unservedLogged + 3) {
            let read = Bytes([0, 0])
            XCTAssertNil(channel.handle(port: 0x70, isWrite: false, size: 2, count: 1, data: read, recorder: recorder, injected: nil))
            XCTAssertEqual(read.storage, [0xFF, 0xFF])
        }
        XCTAssertEqual(recorder.events.count, EventRecorder.unservedLogged)
        XCTAssertEqual(recorder.unservedNotLogged, 3)
    }
}
