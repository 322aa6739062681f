import GuestPhysical
import Payload
import XCTest

@testable import HostRunner

/// The firmware run's summary of what it validated or accepted (`ValidationTally`,
/// `FirmwareMemorySummary`), from served requests built by hand: no /dev/kvm.
final class FirmwareMemorySummaryTests: XCTestCase {
    static let ram = GPARange(start: 0, end: 0x400_0000)
    static let kiB4: UInt64 = 0x1000
    static let miB2: UInt64 = 0x20_0000

    static func pvalidate(_ start: UInt64, _ size: UInt64, _ result: PageStateMap.PValidateResult, rescind: Bool = false) -> ValidationRecord {
        ValidationRecord(
            interface: .sevSNP, operation: rescind ? .rescind : .validate, range: GPARange(start: start, end: start + size), pageSize: size,
            result: .pvalidate(result), transport: .trap)
    }

    static func accept(_ start: UInt64, _ size: UInt64, _ result: PageStateMap.AcceptResult) -> ValidationRecord {
        ValidationRecord(
            interface: .tdx, operation: .accept, range: GPARange(start: start, end: start + size), pageSize: size, result: .accept(result),
            transport: .trap)
    }

    static func tally(_ records: [ValidationRecord]) -> ValidationTally {
        var tally = ValidationTally()
        for record in records { tally.add(record) }
        return tally
    }

    /// OVMF's pattern: a 2 MiB attempt meets FAIL_SIZEMISMATCH, then the same range in 4 KiB
    /// pages, out of order here; one page asked twice answers "no update".
    func testCoalescesFourKiBSuccessesAndCountsFailuresByAnswer() {
        var records = [Self.pvalidate(0x80_0000, Self.miB2, .sizeMismatch), Self.pvalidate(0xA0_0000, Self.miB2, .sizeMismatch)]
        records += stride(from: UInt64(0x80_0000), to: 0xC0_0000, by: 0x1000).reversed().map { Self.pvalidate($0, Self.kiB4, .success) }
        records.append(Self.pvalidate(0x80_0000, Self.kiB4, .noUpdate))
        let tally = Self.tally(records)
        XCTAssertEqual(tally.validated, [ValidationTally.Span(range: GPARange(start: 0x80_0000, end: 0xC0_0000), pageSize: Self.kiB4)])
        XCTAssertEqual(tally.validated.first?.pages, 1024)
        XCTAssertEqual(tally.successes, [ValidationTally.AnswerCount(answer: "success", pageSize: Self.kiB4, count: 1024)])
        XCTAssertEqual(
            tally.failures,
            [
                ValidationTally.AnswerCount(answer: "no update (RAX 0, CF 1)", pageSize: Self.kiB4, count: 1),
                ValidationTally.AnswerCount(answer: "FAIL_SIZEMISMATCH (RAX 6)", pageSize: Self.miB2, count: 2),
            ])
        XCTAssertTrue(tally.rescinded.isEmpty)
    }

    /// A gap, or a change of page size, starts a new range; rescinds are a list of their own.
    func testGapsAndPageSizesSplitRanges() {
        let tally = Self.tally([
            Self.pvalidate(0x0, Self.kiB4, .success), Self.pvalidate(0x1000, Self.kiB4, .success),
            Self.pvalidate(0x2000, Self.kiB4, .success, rescind: true),
            Self.pvalidate(0x20_0000, Self.miB2, .success), Self.pvalidate(0x40_0000, Self.kiB4, .success),
            Self.pvalidate(0x60_0000, Self.kiB4, .success),
        ])
        XCTAssertEqual(
            tally.validated,
            [
                ValidationTally.Span(range: GPARange(start: 0, end: 0x2000), pageSize: Self.kiB4),
                ValidationTally.Span(range: GPARange(start: 0x20_0000, end: 0x40_0000), pageSize: Self.miB2),
                ValidationTally.Span(range: GPARange(start: 0x40_0000, end: 0x40_1000), pageSize: Self.kiB4),
                ValidationTally.Span(range: GPARange(start: 0x60_0000, end: 0x60_1000), pageSize: Self.kiB4),
            ])
        XCTAssertEqual(tally.rescinded, [ValidationTally.Span(range: GPARange(start: 0x2000, end: 0x3000), pageSize: Self.kiB4)])
        XCTAssertEqual(
            tally.successes,
            [
                ValidationTally.AnswerCount(answer: "success", pageSize: Self.kiB4, count: 5),
                ValidationTally.AnswerCount(answer: "success", pageSize: Self.miB2, count: 1),
            ])
    }

    /// More scattered requests than the fold step: every other page first, then the rest,
    /// so no request continues the last one until the end; the result is still one range.
    func testFoldingKeepsEveryRange() {
        let pages = 5000
        let evens = stride(from: 0, to: pages, by: 2), odds = stride(from: 1, to: pages, by: 2)
        let tally = Self.tally((Array(evens) + Array(odds)).map { Self.accept(UInt64($0) * 0x1000, Self.kiB4, .accepted(GPARange(start: 0, end: 0))) })
        XCTAssertEqual(tally.validated, [ValidationTally.Span(range: GPARange(start: 0, end: UInt64(pages) * 0x1000), pageSize: Self.kiB4)])
        XCTAssertEqual(tally.successes.first?.count, pages)
    }

    /// Two vCPUs' tallies merge into one.
    func testMergeAddsCountsAndRanges() {
        var first = Self.tally([Self.pvalidate(0x0, Self.kiB4, .success), Self.pvalidate(0x0, Self.miB2, .sizeMismatch)])
        first.merge(Self.tally([Self.pvalidate(0x1000, Self.kiB4, .success), Self.pvalidate(0x20_0000, Self.miB2, .sizeMismatch)]))
        XCTAssertEqual(first.validated, [ValidationTally.Span(range: GPARange(start: 0, end: 0x2000), pageSize: Self.kiB4)])
        XCTAssertEqual(first.failures, [ValidationTally.AnswerCount(answer: "FAIL_SIZEMISMATCH (RAX 6)", pageSize: Self.miB2, count: 2)])
    }

    /// The summary sets the requests against the RAM: what the launch populated there, what
    /// the guest made shared, and what it left not validated, read from the final page states.
    func testSummaryAgainstRAMLaunchPagesAndFinalStates() throws {
        var states = PageStateMap.launchState(ram: Self.ram, plan: [], platform: .sevSNP)
        let secMem = GPARange(start: 0x80_0000, end: 0x80_9000)
        states.assign(Page(state: .private, acceptance: .accepted), to: secMem)
        var records: [ValidationRecord] = []
        for page in stride(from: UInt64(0x82_0000), to: 0x84_0000, by: 0x1000) {
            XCTAssertEqual(states.pvalidate(gpa: page, pageSize: 0, validate: 1, ram: Self.ram), .success)
            records.append(Self.pvalidate(page, Self.kiB4, .success))
        }
        _ = states.set(GPARange(start: 0x80_9000, end: 0x80_A000), to: .shared)
        let launch = [
            LaunchPage(kind: .zero, range: secMem, contents: nil, source: .sevSection(index: 0, .snpSecureMemory)),
            LaunchPage(kind: .normal, range: GPARange(start: 0xFFE0_0000, end: 0x1_0000_0000), contents: nil, source: .image),
        ]
        let summary = try XCTUnwrap(
            FirmwareMemorySummary(platform: .sevSNP, ram: Self.ram, tally: Self.tally(records), launchPages: launch, finalStates: states))
        XCTAssertEqual(summary.instruction, .pvalidate)
        XCTAssertEqual(summary.launched.map(\.range), [secMem], "the ROM is not in RAM")
        XCTAssertEqual(summary.shared, [GPARange(start: 0x80_9000, end: 0x80_A000)])
        XCTAssertEqual(
            summary.unvalidated,
            [GPARange(start: 0, end: 0x80_0000), GPARange(start: 0x80_A000, end: 0x82_0000), GPARange(start: 0x84_0000, end: 0x400_0000)])
        XCTAssertTrue(summary.lines.contains("  validated: [0x820000, 0x840000) in 4 KiB pages (32)"), "\(summary.lines)")
        XCTAssertTrue(summary.lines.contains("  answers: 32 × 4 KiB success"), "\(summary.lines)")
        XCTAssertNil(FirmwareMemorySummary(platform: .kvm, ram: Self.ram, tally: ValidationTally(), launchPages: [], finalStates: states))
    }
}
