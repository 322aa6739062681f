import GuestABI
import GuestPhysical
import XCTest

/// KVM's VMGEXIT checks (sev.c `sev_es_validate_vmgexit`, `setup_vmgexit_scratch`):
/// malformed input answers SW_EXITINFO1 = 2 and SW_EXITINFO2 = GHCB_ERR_* (2 invalid
/// usage, 3 invalid scratch area, 4 missing input).
final class GHCBExitHandlerTests: XCTestCase {
    let gpa = GHCBFixture.ghcbGPA

    func validPSC() -> GHCBPage {
        GHCBFixture.pageStateChange(
            PageStateChangeDescriptor(entries: [
                PageStateChangeEntry(gfn: 0x77, operation: .makeShared, is2M: false)
            ]))
    }

    func handle(_ page: inout GHCBPage, host: RecordingHost = RecordingHost()) -> GHCBExitHandler.Disposition {
        GHCBExitHandler.handle(&page, ghcbGPA: gpa, host: host.serve)
    }

    func assertMalformed(_ page: GHCBPage, _ code: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var page = page
        let host = RecordingHost()
        let disposition = handle(&page, host: host)
        XCTAssertEqual(disposition, .malformed(GHCBMalformedInput(rawValue: code) ?? .invalidInput), file: file, line: line)
        XCTAssertEqual(page[.swExitInfo1], 2, file: file, line: line)
        XCTAssertEqual(page[.swExitInfo2], code, file: file, line: line)
        XCTAssertTrue(host.requests.isEmpty, file: file, line: line)
    }

    func testServesAPageStateChange() throws {
        var page = validPSC()
        let host = RecordingHost()
        XCTAssertEqual(handle(&page, host: host), .pageStateChange(.completed))
        XCTAssertEqual(host.requests.map(\.start), [0x77000])
        XCTAssertEqual(page[.swExitInfo1], 0)
        XCTAssertEqual(page[.swExitInfo2], 0)
        // KVM clears the bitmap and marks what it writes back.
        XCTAssertTrue(page.isValid(.swExitInfo1) && page.isValid(.swExitInfo2))
        XCTAssertFalse(page.isValid(.swExitCode))
        XCTAssertFalse(page.isValid(.swScratch))
    }

    func testNonZeroUsageComesFirst() {
        var page = validPSC()
        page.usage = 1
        page.setValid(.swExitCode, false)
        assertMalformed(page, 2)
    }

    func testMissingInputs() {
        for field in [GHCBField.swExitCode, .swExitInfo1, .swExitInfo2, .swScratch] {
            var page = validPSC()
            page.setValid(field, false)
            assertMalformed(page, 4)
        }
    }

    func testScratchArea() {
        let offsets: [(UInt64, UInt64)] = [
            (0, 3), // no scratch GPA at all
            (gpa + 0x1000 + 0x800, 3), // another page
            (gpa + 0x400, 3), // inside the GHCB, below the shared buffer
            (gpa + 0xFEC, 3), // header would cross 0xFF0
        ]
        for (scratch, code) in offsets {
            var page = validPSC()
            page.set(.swScratch, scratch)
            assertMalformed(page, code)
        }
        // A header that ends exactly at 0xFF0 is accepted (and has room for no entries).
        var page = validPSC()
        page.set(.swScratch, gpa + 0xFE8)
        XCTAssertEqual(handle(&page), .pageStateChange(.invalidHeader))
    }

    func testOtherExitCodesAreLeftToTheRunner() {
        var page = validPSC()
        page.set(.swExitCode, 0x72)
        page.markClean()
        XCTAssertEqual(handle(&page), .unhandled(exitCode: 0x72))
        XCTAssertFalse(page.hasChanges)
    }

    func testRunnerAnswersAnUnhandledEventWithInvalidEvent() {
        var page = validPSC()
        page.set(.swExitCode, 0x1234)
        guard case .unhandled = GHCBExitHandler.handle(&page, ghcbGPA: gpa, host: { _ in .converted }) else {
            return XCTFail("expected unhandled")
        }
        GHCBExitHandler.complete(&page, exitInfo1: GHCBMalformedInput.exitInfo1, exitInfo2: GHCBMalformedInput.invalidEvent.rawValue)
        XCTAssertEqual(page[.swExitInfo1], 2)
        XCTAssertEqual(page[.swExitInfo2], 6)
    }

    func testHypercallThroughTheGHCB() throws {
        var page = GHCBPage()
        page.set(.swExitCode, 0x81)
        page.set(.swExitInfo1, 0)
        page.set(.swExitInfo2, 0)
        page.set(.rax, 12)
        page.set(.rbx, 0x20_0000)
        page.set(.rcx, 512)
        page.set(.rdx, 0x11)
        page.set(.cpl, 0)
        let host = RecordingHost()
        XCTAssertEqual(handle(&page, host: host), .hypercall(rax: 0))
        XCTAssertEqual(
            host.requests,
            [
                ConversionRequest(
                    range: try GPARange(start: 0x20_0000, pageCount: 512), direction: .toPrivate, pageSize: .size2M,
                    origin: .kvmHypercall)
            ])
        XCTAssertEqual(page[.rax], 0)
        XCTAssertTrue(page.isValid(.rax))
        XCTAssertEqual(page[.rbx], 0x20_0000, "KVM writes the guest's RBX back")
    }

    func testHypercallNeedsRAXAndCPL() {
        var page = GHCBPage()
        page.set(.swExitCode, 0x81)
        page.set(.swExitInfo1, 0)
        page.set(.swExitInfo2, 0)
        page.set(.rax, 12)
        assertMalformed(page, 4)
    }

    func testHypercallErrorsLandInRAX() {
        var page = GHCBPage()
        page.set(.swExitCode, 0x81)
        page.set(.swExitInfo1, 0)
        page.set(.swExitInfo2, 0)
        page.set(.rax, 12)
        page.set(.rbx, 0x1234)
        page.set(.rcx, 1)
        page.set(.cpl, 0)
        XCTAssertEqual(handle(&page), .hypercall(rax: 0xFFFF_FFFF_FFFF_FFEA))
        XCTAssertEqual(page[.rax], 0xFFFF_FFFF_FFFF_FFEA)
    }

    func testWriteBackIsConfinedToAnsweredFields() {
        var page = validPSC()
        _ = handle(&page)
        // Valid bitmap, RAX, RCX..RBX, SW_EXITINFO1/2, and the descriptor header + entry.
        XCTAssertEqual(page.changedRanges, [0x1F8..<0x200, 0x308..<0x320, 0x398..<0x3A8, 0x3F0..<0x400, 0x800..<0x810])
    }
}
