import GuestPhysical
import Payload
import XCTest

@testable import Conformance
@testable import HostRunner

/// The catalogue compares the runner's records by value: an expectation names the answer or
/// the form itself, not words that must happen to begin the same way.
final class TypedExpectationTests: XCTestCase {
    private static let page = GPARange(start: 0x40_0000, exactByteCount: 0x1000)

    private func validation(_ operation: ValidationOperation, _ result: ValidationResult, size: UInt64 = 0x1000) -> ValidationRecord {
        ValidationRecord(
            interface: result.changed || operation != .accept ? .sevSNP : .tdx, operation: operation,
            range: GPARange(start: Self.page.start, exactByteCount: size), pageSize: size, result: result, transport: .trap)
    }

    /// The old rule, `record.result.hasPrefix(expected)`, let the catalogue's "success" stand for
    /// whatever answer began with that word, and "TDX_PAGE_ALREADY_ACCEPTED" for every level;
    /// a value matches exactly one answer.
    func testExpectedValidationMatchesTheAnswerNotItsWords() {
        let start = Self.page.start
        let success = Catalogue.ExpectedValidation(operation: .validate, start: start, size: 0x1000, result: .pvalidate(.success))
        XCTAssertTrue(success.matches(validation(.validate, .pvalidate(.success))))
        XCTAssertFalse(success.matches(validation(.validate, .pvalidate(.noUpdate))))
        XCTAssertFalse(success.matches(validation(.rescind, .pvalidate(.success))))
        XCTAssertFalse(success.matches(validation(.validate, .accept(.accepted(Self.page)))), "TDX_SUCCESS is not PVALIDATE's success")

        let already = Catalogue.ExpectedValidation(operation: .accept, start: start, size: 0x1000, result: .accept(.alreadyAccepted(level: 0)))
        XCTAssertTrue(already.matches(validation(.accept, .accept(.alreadyAccepted(level: 0)))))
        XCTAssertFalse(already.matches(validation(.accept, .accept(.alreadyAccepted(level: 1)))), "another level is another status")
        XCTAssertTrue(validation(.accept, .accept(.alreadyAccepted(level: 1))).result.description.hasPrefix("TDX_PAGE_ALREADY_ACCEPTED"))

        XCTAssertTrue(
            Catalogue.ExpectedValidation(operation: .accept, start: start, size: 0x1000, result: Catalogue.accepted(start))
                .matches(validation(.accept, .accept(.accepted(Self.page)))))
        XCTAssertEqual(success.description, "validate 0x400000 (4 KiB): success (RAX 0)")
    }

    /// Every implicit conversion's words begin "KVM_EXIT_MEMORY_FAULT"; the catalogue tells the
    /// access that caused one from KVM's own exit and from the other view.
    func testExpectedConversionComparesTheForm() {
        func record(_ form: ConversionForm, outsideGuestMemory: Bool = false) -> ConversionRecord {
            ConversionRecord(
                interface: .sevSNP, form: form, transport: .trap, range: Self.page, direction: .private, pageSize: 0x1000,
                outcome: outsideGuestMemory ? .outsideGuestMemory : .converted, flipped: outsideGuestMemory ? [] : [Self.page],
                unchanged: [], seconds: 0)
        }
        let privateRead = ExpectedConversion(Self.page.start, Self.page.start + 0x1000, to: .private, form: .memoryFault(.access(view: .private, .read)))
        XCTAssertNil(privateRead.difference(from: record(.memoryFault(.access(view: .private, .read)))))
        XCTAssertEqual(privateRead.difference(from: record(.memoryFault(nil))), "interface form")
        XCTAssertEqual(privateRead.difference(from: record(.memoryFault(.access(view: .shared, .read)))), "interface form")
        XCTAssertEqual(privateRead.difference(from: record(.memoryFault(.pvalidateOfHypervisorOwnedPage))), "interface form")
        XCTAssertEqual(privateRead.difference(from: record(.memoryFault(.access(view: .private, .read)), outsideGuestMemory: true)), "outcome")
        XCTAssertEqual(privateRead.description, "[0x400000, 0x401000) → private via KVM_EXIT_MEMORY_FAULT (private read) converted")

        let any = ExpectedConversion(Self.page.start, Self.page.start + 0x1000, to: .private)
        XCTAssertNil(any.difference(from: record(.request(.ghcbPSC))))
        XCTAssertNil(any.difference(from: record(.memoryFault(nil))))
    }
}
