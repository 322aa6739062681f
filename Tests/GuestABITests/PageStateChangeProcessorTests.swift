import GuestABI
import GuestPhysical
import XCTest

/// Expectations follow the PSC rules of the GHCB spec as KVM implements them
/// (sev.c `snp_begin_psc`): errors INVALID_HDR = 0x1_0000_0001, INVALID_ENTRY =
/// 0x1_0000_0002, GENERIC = 0x100_0000_0000; finished entries read cur_page 1 or 512.
final class PageStateChangeProcessorTests: XCTestCase {
    let invalidHeader: UInt64 = 0x1_0000_0001
    let invalidEntry: UInt64 = 0x1_0000_0002
    let generic: UInt64 = 0x100_0000_0000

    func run(
        _ entries: [PageStateChangeEntry], curEntry: UInt16 = 0, endEntry: UInt16? = nil,
        policy: PageStateChangePolicy = .strict, host: RecordingHost = RecordingHost(),
        offset: Int = 0x800
    ) -> (GHCBPage, PageStateChangeResult) {
        let descriptor = PageStateChangeDescriptor(
            curEntry: curEntry, endEntry: endEntry ?? UInt16(entries.count - 1), entries: entries)
        var page = GHCBFixture.pageStateChange(descriptor, offset: offset)
        let result = PageStateChangeProcessor(policy: policy).process(&page, descriptorOffset: offset, host: host.serve)
        return (page, result)
    }

    func request(_ start: UInt64, _ pages: UInt64, _ direction: ConversionDirection, _ size: PageSize) throws -> ConversionRequest {
        ConversionRequest(range: try GPARange(start: start, pageCount: pages), direction: direction, pageSize: size, origin: .ghcbPSC)
    }

    func testSingleEntry() throws {
        let host = RecordingHost()
        let (page, result) = run([PageStateChangeEntry(gfn: 0x123, operation: .makePrivate, is2M: false)], host: host)
        XCTAssertEqual(result, .completed)
        XCTAssertEqual(result.exitInfo2, 0)
        XCTAssertEqual(host.requests, [try request(0x12_3000, 1, .toPrivate, .size4K)])
        let after = GHCBFixture.descriptor(in: page, count: 1)
        XCTAssertEqual(after.curEntry, 1)
        XCTAssertEqual(after.entries[0].curPage, 1)
    }

    func testMergesContiguousEntriesIntoOneRequest() throws {
        let host = RecordingHost()
        let entries =
            [0x100, 0x101, 0x102].map { PageStateChangeEntry(gfn: $0, operation: .makeShared, is2M: false) }
            + [
                PageStateChangeEntry(gfn: 0x200, operation: .makeShared, is2M: false),
                PageStateChangeEntry(gfn: 0x201, operation: .makePrivate, is2M: false),
            ]
        let (page, result) = run(entries, host: host)
        XCTAssertEqual(result, .completed)
        XCTAssertEqual(
            host.requests,
            [
                try request(0x10_0000, 3, .toShared, .size4K),
                try request(0x20_0000, 1, .toShared, .size4K),
                try request(0x20_1000, 1, .toPrivate, .size4K),
            ])
        let after = GHCBFixture.descriptor(in: page, count: 5)
        XCTAssertEqual(after.curEntry, 5)
        XCTAssertEqual(after.entries.map(\.curPage), [1, 1, 1, 1, 1])
    }

    func testMergesTwoMegabyteEntries() throws {
        let host = RecordingHost()
        let entries =
            [0x200, 0x400, 0x600].map { PageStateChangeEntry(gfn: $0, operation: .makePrivate, is2M: true) }
            + [PageStateChangeEntry(gfn: 0x800, operation: .makePrivate, is2M: false)]
        let (page, _) = run(entries, host: host)
        XCTAssertEqual(
            host.requests,
            [
                try request(0x20_0000, 1536, .toPrivate, .size2M),
                try request(0x80_0000, 1, .toPrivate, .size4K),
            ])
        XCTAssertEqual(GHCBFixture.descriptor(in: page, count: 4).entries.map(\.curPage), [512, 512, 512, 1])
    }

    func testPartlyDoneTwoMegabyteEntryContinuesAsFourK() throws {
        let host = RecordingHost()
        let entries = [
            PageStateChangeEntry(gfn: 0x200, operation: .makeShared, is2M: true, curPage: 100),
            PageStateChangeEntry(gfn: 0x400, operation: .makeShared, is2M: false),
        ]
        let (page, result) = run(entries, host: host)
        XCTAssertEqual(result, .completed)
        // 412 remaining pages from 0x200 + 100 = 0x264, then the contiguous 4K entry.
        XCTAssertEqual(host.requests, [try request(0x26_4000, 413, .toShared, .size4K)])
        XCTAssertEqual(GHCBFixture.descriptor(in: page, count: 2).entries.map(\.curPage), [512, 1])
    }

    func testEntryOverlappingAPartlyDoneRangeDoesNotMergeIntoTheWrongPages() throws {
        // 0x200 + 512 - 100 = 0x39C lies inside the 2 MiB entry; it must stay a run of its own.
        let host = RecordingHost()
        let entries = [
            PageStateChangeEntry(gfn: 0x200, operation: .makeShared, is2M: true, curPage: 100),
            PageStateChangeEntry(gfn: 0x39C, operation: .makeShared, is2M: false),
        ]
        _ = run(entries, host: host)
        XCTAssertEqual(
            host.requests,
            [
                try request(0x26_4000, 412, .toShared, .size4K),
                try request(0x39_C000, 1, .toShared, .size4K),
            ])
    }

    func testSkipsFinishedEntriesAndDoesNotMergeIntoStartedOnes() throws {
        let host = RecordingHost()
        let entries = [
            PageStateChangeEntry(gfn: 0x10, operation: .makePrivate, is2M: false, curPage: 1),
            PageStateChangeEntry(gfn: 0x11, operation: .makePrivate, is2M: false),
            PageStateChangeEntry(gfn: 0x12, operation: .makePrivate, is2M: false, curPage: 1),
        ]
        let (page, result) = run(entries, host: host)
        XCTAssertEqual(result, .completed)
        XCTAssertEqual(host.requests, [try request(0x11000, 1, .toPrivate, .size4K)])
        XCTAssertEqual(GHCBFixture.descriptor(in: page, count: 3).curEntry, 3)
    }

    func testCurEntryBeyondEndEntryIsNothingToDo() {
        let host = RecordingHost()
        let entries = [PageStateChangeEntry(gfn: 1, operation: .makePrivate, is2M: false)]
        let (page, result) = run(entries, curEntry: 1, endEntry: 0, host: host)
        XCTAssertEqual(result, .completed)
        XCTAssertTrue(host.requests.isEmpty)
        XCTAssertEqual(GHCBFixture.descriptor(in: page, count: 1).curEntry, 1)
        XCTAssertFalse(page.hasChanges)
    }

    func testFullBatchOf253Entries() throws {
        let host = RecordingHost()
        let entries = (0..<253).map { PageStateChangeEntry(gfn: 0x1000 + UInt64($0), operation: .makeShared, is2M: false) }
        let (page, result) = run(entries, host: host)
        XCTAssertEqual(result, .completed)
        XCTAssertEqual(host.requests, [try request(0x100_0000, 253, .toShared, .size4K)])
        let after = GHCBFixture.descriptor(in: page, count: 253)
        XCTAssertEqual(after.curEntry, 253)
        XCTAssertTrue(after.entries.allSatisfy { $0.curPage == 1 })
    }

    func testEndEntry253IsAnInvalidHeader() {
        let host = RecordingHost()
        let entries = (0..<253).map { PageStateChangeEntry(gfn: UInt64($0), operation: .makeShared, is2M: false) }
        let (page, result) = run(entries, endEntry: 253, host: host)
        XCTAssertEqual(result.exitInfo2, invalidHeader)
        XCTAssertTrue(host.requests.isEmpty)
        XCTAssertEqual(GHCBFixture.descriptor(in: page, count: 1).curEntry, 0)
    }

    func testEntriesMustFitInTheSharedBuffer() {
        // At 0x808 only 252 entries fit before 0xFF0.
        let entries = (0..<253).map { PageStateChangeEntry(gfn: UInt64($0), operation: .makeShared, is2M: false) }
        XCTAssertEqual(run(Array(entries.prefix(252)), offset: 0x808).1, .completed)
        XCTAssertEqual(run(Array(entries.prefix(252)), endEntry: 252, offset: 0x808).1, .invalidHeader)
    }

    func testInvalidEntries() {
        // cur_page beyond a 4K entry's single page.
        var (page, result) = run([
            PageStateChangeEntry(gfn: 0x10, operation: .makePrivate, is2M: false),
            PageStateChangeEntry(gfn: 0x20, operation: .makePrivate, is2M: false, curPage: 2),
        ])
        XCTAssertEqual(result.exitInfo2, invalidEntry)
        XCTAssertEqual(result, .invalidEntry(index: 1))
        XCTAssertEqual(GHCBFixture.descriptor(in: page, count: 2).curEntry, 1, "cur_entry points at the bad entry")
        // cur_page beyond 512 for a 2M entry; and a 2M entry off a 512-frame boundary.
        (page, result) = run([PageStateChangeEntry(gfn: 0x200, operation: .makePrivate, is2M: true, curPage: 513)])
        XCTAssertEqual(result.exitInfo2, invalidEntry)
        (page, result) = run([PageStateChangeEntry(gfn: 0x201, operation: .makePrivate, is2M: true)])
        XCTAssertEqual(result.exitInfo2, invalidEntry)
    }

    func testUnknownOperations() {
        for operation: UInt8 in [0, 5, 15] {
            let entries = [PageStateChangeEntry(gfn: 0x40, rawOperation: operation, is2M: false)]
            let strictHost = RecordingHost()
            XCTAssertEqual(run(entries, host: strictHost).1.exitInfo2, invalidEntry, "op \(operation)")
            XCTAssertTrue(strictHost.requests.isEmpty)
            // KVM completes them without converting anything.
            let kvmHost = RecordingHost()
            let (page, result) = run(entries, policy: .kvm, host: kvmHost)
            XCTAssertEqual(result, .completed)
            XCTAssertTrue(kvmHost.requests.isEmpty)
            XCTAssertEqual(GHCBFixture.descriptor(in: page, count: 1).entries[0].curPage, 1)
        }
    }

    func testPsmashAndUnsmashCompleteWithoutARequest() {
        let host = RecordingHost()
        let entries = [
            PageStateChangeEntry(gfn: 0x200, operation: .psmash, is2M: true),
            PageStateChangeEntry(gfn: 0x400, operation: .psmash, is2M: true),
            PageStateChangeEntry(gfn: 0x600, operation: .unsmash, is2M: true),
        ]
        let (page, result) = run(entries, host: host)
        XCTAssertEqual(result, .completed)
        XCTAssertTrue(host.requests.isEmpty)
        let after = GHCBFixture.descriptor(in: page, count: 3)
        XCTAssertEqual(after.curEntry, 3)
        XCTAssertEqual(after.entries.map(\.curPage), [512, 512, 512])
    }

    func testReservedBits() {
        let entries = [PageStateChangeEntry(gfn: 0x40, rawOperation: 1, is2M: false, reserved: 0x40)]
        XCTAssertEqual(run(entries).1.exitInfo2, invalidEntry)
        let host = RecordingHost()
        XCTAssertEqual(run(entries, policy: .kvm, host: host).1, .completed)
        XCTAssertEqual(host.requests.count, 1)
    }

    func testHostFailureStopsWithGenericErrorAndKeepsProgress() throws {
        let host = RecordingHost()
        host.answer = { $0 == 2 ? .outsideGuestMemory : .converted }
        let entries = [
            PageStateChangeEntry(gfn: 0x10, operation: .makeShared, is2M: false),
            PageStateChangeEntry(gfn: 0x11, operation: .makeShared, is2M: false),
            PageStateChangeEntry(gfn: 0x50, operation: .makeShared, is2M: false),
            PageStateChangeEntry(gfn: 0x90, operation: .makeShared, is2M: false),
        ]
        let (page, result) = run(entries, host: host)
        XCTAssertEqual(result, .hostFailed(.outsideGuestMemory))
        XCTAssertEqual(result.exitInfo2, generic)
        XCTAssertEqual(host.requests.count, 2)
        let after = GHCBFixture.descriptor(in: page, count: 4)
        XCTAssertEqual(after.curEntry, 2)
        XCTAssertEqual(after.entries.map(\.curPage), [1, 1, 0, 0])
    }

    func testDescriptorRoundTrip() {
        let descriptor = PageStateChangeDescriptor(entries: [
            PageStateChangeEntry(gfn: 0xFF_FFFF_FFFF, operation: .unsmash, is2M: true, curPage: 0xFFF),
            PageStateChangeEntry(gfn: 0, operation: .makePrivate, is2M: false),
        ])
        XCTAssertEqual(descriptor.endEntry, 1)
        XCTAssertEqual(descriptor.entries[0].rawValue, 0x014F_FFFF_FFFF_FFFF)
        var page = GHCBPage()
        descriptor.write(to: &page, offset: 0x900)
        XCTAssertEqual(PageStateChangeDescriptor(page: page, offset: 0x900, entryCount: 2), descriptor)
        XCTAssertEqual(Array(page.bytes[0x900..<0x908]), [0, 0, 1, 0, 0, 0, 0, 0])
    }
}
