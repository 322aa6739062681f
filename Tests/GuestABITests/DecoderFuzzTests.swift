import GuestABI
import GuestPhysical
import TestSupport
import XCTest

/// Drives random GHCB pages, PSC descriptors, MSR values and register sets through
/// every decoder: each input must end in a request or a spec error, and the
/// invariants below must hold. Each run draws a fresh seed and prints it;
/// replay a failure with ENLIGHTEN_FUZZ_SEED=<seed>.
final class DecoderFuzzTests: XCTestCase {
    static let ghcbGPA: UInt64 = 0x7F_F000

    // MARK: GHCB pages and PSC descriptors

    func testRandomGHCBPages() {
        var rng = SplitMix64.fresh(for: name)
        var pscServed = 0
        for iteration in 0..<40_000 {
            var page = randomGHCB(&rng)
            let original = page
            let policy: PageStateChangePolicy = rng.chance(1, in: 2) ? .strict : .kvm
            let failAt = rng.chance(1, in: 8) ? Int.random(in: 1...4, using: &rng) : 0
            var requests: [ConversionRequest] = []
            let disposition = GHCBExitHandler.handle(&page, ghcbGPA: Self.ghcbGPA, policy: policy) { request in
                requests.append(request)
                return requests.count == failAt ? .hostFailure : .converted
            }
            let context = "iteration \(iteration)"
            assertOnlyTrackedBytesChanged(original, page, context)
            switch disposition {
            case let .malformed(error):
                XCTAssertEqual(page[.swExitInfo1], 2, context)
                XCTAssertEqual(page[.swExitInfo2], error.rawValue, context)
                XCTAssertTrue((1...6).contains(error.rawValue), context)
                XCTAssertTrue(requests.isEmpty, context)
            case let .pageStateChange(result):
                pscServed += 1
                XCTAssertEqual(page[.swExitInfo1], 0, context)
                XCTAssertEqual(page[.swExitInfo2], result.exitInfo2, context)
                checkPSCInvariants(original, page, requests, result, policy, failAt, context)
            case let .hypercall(rax):
                XCTAssertEqual(page[.rax], rax, context)
                XCTAssertLessThanOrEqual(requests.count, 1, context)
            case .unhandled:
                XCTAssertFalse(page.hasChanges, context)
            }
        }
        XCTAssertGreaterThan(pscServed, 10_000, "the generator should mostly produce servable PSC events")
    }

    func randomGHCB(_ rng: inout SplitMix64) -> GHCBPage {
        var page = GHCBPage()
        if rng.chance(1, in: 50) {
            for offset in stride(from: 0, to: 4096, by: 8) { page.store(rng.next(), at: offset) }
        }
        let exitCode: UInt64 =
            switch UInt64.random(in: 0..<20, using: &rng) {
            case 0: 0x81
            case 1: rng.next()
            case 2: 0x72
            default: 0x8000_0010
            }
        page.set(.swExitCode, exitCode)
        page.set(.swExitInfo1, rng.chance(1, in: 10) ? rng.next() : 0)
        page.set(.swExitInfo2, 0)
        let offset = rng.chance(9, in: 10) ? 0x800 : Int.random(in: 0x7F0...0xFF8, using: &rng)
        page.set(.swScratch, rng.chance(1, in: 40) ? rng.next() : Self.ghcbGPA + UInt64(offset))
        if exitCode == 0x81 {
            page.set(.rax, rng.chance(3, in: 4) ? 12 : rng.next() & 0xFF)
            page.set(.rbx, rng.next() & 0xF_FFFF_F000)
            page.set(.rcx, UInt64.random(in: 0...1024, using: &rng))
            page.set(.rdx, rng.chance(3, in: 4) ? [0, 1, 0x10, 0x11][Int(rng.next() % 4)] : rng.next() & 0xFF)
            page.set(.cpl, rng.chance(9, in: 10) ? 0 : 3)
        }
        for field in GHCBField.allCases where rng.chance(1, in: 30) {
            page.setValid(field, false)
        }
        if rng.chance(1, in: 40) { page.usage = UInt32(truncatingIfNeeded: rng.next()) }
        if offset + 8 <= 0xFF8 {
            randomDescriptor(&rng, offset: offset).write(to: &page, offset: offset)
        }
        page.markClean()
        return page
    }

    func randomDescriptor(_ rng: inout SplitMix64, offset: Int) -> PageStateChangeDescriptor {
        let room = max(0, (0xFF8 - offset - 8) / 8)
        let count = min(room, rng.chance(1, in: 20) ? 253 : Int.random(in: 0...24, using: &rng))
        var gfn = UInt64.random(in: 0...0x4000, using: &rng) & ~0x1FF
        var entries: [PageStateChangeEntry] = []
        for _ in 0..<count {
            let is2M = rng.chance(1, in: 3)
            if !rng.chance(3, in: 4) { gfn = rng.chance(1, in: 2) ? rng.next() : UInt64.random(in: 0...0x8000, using: &rng) }
            let operation: UInt8 =
                rng.chance(9, in: 10)
                ? UInt8.random(in: 1...4, using: &rng) : UInt8.random(in: 0...15, using: &rng)
            let curPage: UInt16 =
                switch UInt64.random(in: 0..<10, using: &rng) {
                case 0: is2M ? 512 : 1
                case 1: UInt16.random(in: 0...0xFFF, using: &rng)
                case 2: is2M ? UInt16.random(in: 1...511, using: &rng) : 0
                default: 0
                }
            let reserved: UInt8 = rng.chance(1, in: 30) ? UInt8.random(in: 1...0x7F, using: &rng) : 0
            entries.append(PageStateChangeEntry(gfn: gfn, rawOperation: operation, is2M: is2M, curPage: curPage, reserved: reserved))
            gfn &+= is2M ? 512 : 1
        }
        let end: UInt16 =
            switch UInt64.random(in: 0..<10, using: &rng) {
            case 0: UInt16.random(in: 0...300, using: &rng)
            default: UInt16(clamping: max(count - 1, 0))
            }
        let cur: UInt16 = rng.chance(1, in: 5) ? UInt16.random(in: 0...UInt16(max(count, 1)), using: &rng) : 0
        return PageStateChangeDescriptor(curEntry: cur, endEntry: end, reserved: 0, entries: entries)
    }

    func checkPSCInvariants(
        _ before: GHCBPage, _ after: GHCBPage, _ requests: [ConversionRequest], _ result: PageStateChangeResult,
        _ policy: PageStateChangePolicy, _ failAt: Int, _ context: String
    ) {
        let offset = Int(before[.swScratch] & 0xFFF)
        let capacity = (0xFF0 - offset - 8) / 8
        let old = PageStateChangeDescriptor(page: before, offset: offset, entryCount: 0)
        let new = PageStateChangeDescriptor(page: after, offset: offset, entryCount: 0)
        XCTAssertGreaterThanOrEqual(new.curEntry, old.curEntry, "cur_entry went back; \(context)")
        XCTAssertEqual(new.endEntry, old.endEntry, context)
        let end = Int(old.endEntry)
        if end >= 253 || end >= capacity {
            XCTAssertEqual(result, .invalidHeader, context)
            XCTAssertTrue(requests.isEmpty, context)
            return
        }
        if Int(old.curEntry) > end {
            XCTAssertEqual(result, .completed, context)
            XCTAssertTrue(requests.isEmpty, context)
            XCTAssertEqual(new.curEntry, old.curEntry, context)
            return
        }
        let entries = PageStateChangeDescriptor(page: before, offset: offset, entryCount: end + 1).entries
        let finalEntries = PageStateChangeDescriptor(page: after, offset: offset, entryCount: end + 1).entries
        let scanned = Int(old.curEntry)..<min(Int(new.curEntry), end + 1)
        for index in entries.indices where !scanned.contains(index) {
            XCTAssertEqual(entries[index], finalEntries[index], "entry \(index) outside the processed span changed; \(context)")
        }
        for index in scanned {
            XCTAssertEqual(UInt64(finalEntries[index].curPage), entries[index].pageCount, "entry \(index) not finished; \(context)")
        }
        // Every request lies within pages the entries from cur_entry on name, with their direction.
        let span = Int(old.curEntry)...end
        for request in requests {
            let covering = entries[span].filter {
                $0.gfn <= request.range.firstFrame && request.range.firstFrame < $0.gfn &+ $0.pageCount
            }
            XCTAssertFalse(covering.isEmpty, "request \(request) starts outside every entry; \(context)")
            XCTAssertTrue(covers(entries[span], request.range), "request \(request) leaves the entries; \(context)")
            let expected: UInt8 = request.direction == .toPrivate ? 1 : 2
            XCTAssertTrue(covering.contains { $0.rawOperation == expected }, "direction; \(context)")
            XCTAssertEqual(request.origin, .ghcbPSC, context)
        }
        switch result {
        case .completed:
            XCTAssertTrue(Int(new.curEntry) > end || old.curEntry > old.endEntry, context)
        case let .invalidEntry(index):
            XCTAssertEqual(Int(new.curEntry), index, context)
        case .hostFailed:
            XCTAssertEqual(requests.count, failAt, context)
        case .invalidHeader:
            XCTFail("header was in range; \(context)")
        }
        if policy == .strict {
            XCTAssertTrue(finalEntries[scanned].allSatisfy { $0.operation != nil && $0.reservedBits == 0 }, context)
        }
    }

    /// Whether the frames of `range` are each named by some entry.
    func covers(_ entries: ArraySlice<PageStateChangeEntry>, _ range: GPARange) -> Bool {
        var frame = range.firstFrame
        while UInt128(frame) < range.endFrame {
            guard let entry = entries.first(where: { $0.gfn <= frame && frame < $0.gfn &+ $0.pageCount }) else { return false }
            frame = entry.gfn + entry.pageCount
        }
        return true
    }

    func assertOnlyTrackedBytesChanged(_ before: GHCBPage, _ after: GHCBPage, _ context: String) {
        let ranges = after.changedRanges
        for quadword in 0..<512 {
            let offset = quadword * 8
            guard before.load(UInt64.self, at: offset) != after.load(UInt64.self, at: offset) else { continue }
            if !ranges.contains(where: { $0.contains(offset) }) {
                XCTFail("quadword at 0x\(String(offset, radix: 16)) changed untracked; \(context)")
                return
            }
        }
    }

    // MARK: MSR protocol

    func testRandomMSRValues() {
        var rng = SplitMix64.fresh(for: name)
        let codes: [UInt64] = [0x002, 0x004, 0x010, 0x012, 0x014, 0x080, 0x100]
        for iteration in 0..<30_000 {
            let value = rng.chance(3, in: 4) ? (rng.next() & ~0xFFF) | codes[Int(rng.next() % 7)] : rng.next()
            let request = GHCBMSRRequest(msr: value)
            XCTAssertEqual(GHCBMSRRequest(msr: request.msrValue), request, "iteration \(iteration)")
            if case let .pageStateChange(gfn, operation) = request {
                let conversion = GHCBMSRProtocol.conversion(gfn: gfn, operation: operation)
                XCTAssertEqual(conversion == nil, operation != 1 && operation != 2, "iteration \(iteration)")
                if let conversion {
                    XCTAssertEqual(conversion.start, (value >> 12 & 0xFF_FFFF_FFFF) << 12)
                    XCTAssertEqual(conversion.pageCount, 1)
                }
            }
        }
    }

    // MARK: KVM hypercall

    func testRandomHypercalls() {
        var rng = SplitMix64.fresh(for: name)
        for iteration in 0..<30_000 {
            let longMode = rng.chance(7, in: 8)
            let nr = rng.chance(7, in: 8) ? 12 : rng.next()
            let gpa = rng.chance(3, in: 4) ? rng.next() & ~0xFFF : rng.next()
            let npages = rng.chance(3, in: 4) ? UInt64.random(in: 0...0x1000, using: &rng) : rng.next()
            let attrs = rng.chance(3, in: 4) ? [0, 1, 2, 0x10, 0x11, 0x12][Int(rng.next() % 6)] : rng.next()
            let context = "iteration \(iteration)"
            do {
                let request = try MapGPARange.decode(nr: nr, a0: gpa, a1: npages, a2: attrs, longMode: longMode)
                let mask: UInt64 = longMode ? .max : 0xFFFF_FFFF
                XCTAssertEqual(request.start, gpa & mask, context)
                XCTAssertEqual(request.pageCount, UInt128(npages & mask), context)
                XCTAssertFalse(request.range.firstFrame.addingReportingOverflow(npages & mask).overflow, context)
                XCTAssertEqual(request.range.upperBound, UInt128(gpa & mask) + UInt128(npages & mask) * 4096, context)
                XCTAssertEqual(MapGPARange.attributes(for: request), attrs & mask, context)
            } catch {
                let rax = error.returnValue(longMode: longMode)
                let allowed: Set<UInt64> =
                    longMode
                    ? [0 &- 1, 0 &- 22, 0 &- 1000] : [0xFFFF_FFFF, 0xFFFF_FFEA, 0xFFFF_FC18]
                XCTAssertTrue(allowed.contains(rax), context)
            }
        }
    }

    // MARK: TDX register sets

    func testRandomTDCalls() {
        var rng = SplitMix64.fresh(for: name)
        var mapGPACalls = 0
        for iteration in 0..<30_000 {
            var registers = TDCallRegisters()
            for index in 0..<16 { registers[gpr: index] = rng.next() }
            registers.rax =
                switch UInt64.random(in: 0..<10, using: &rng) {
                case 0: rng.next()
                case 1: 1
                case 2: 6
                default: 0
                }
            registers.rcx = rng.chance(4, in: 5) ? 0xFC00 : rng.next() & (rng.chance(1, in: 2) ? 0xFFFF : .max)
            if rng.chance(3, in: 4) {
                registers.r10 = 0
                registers.r11 = 0x10001
                registers.r13 = UInt64.random(in: 0...0x80_0000, using: &rng) & (rng.chance(3, in: 4) ? ~0xFFF : .max)
                let width: UInt64 = rng.chance(1, in: 2) ? 47 : 51
                registers.r12 = (rng.next() & ((1 << width) - 1) & ~0xFFF) | (rng.chance(1, in: 2) ? 1 << width : 0)
            }
            let context = "iteration \(iteration)"
            switch TDCall.decode(registers) {
            case let .failed(status):
                XCTAssertTrue(status == 0xC000_0100_0000_0000 || status == 0xC000_0100_0000_0001, context)
            case .vpInfo, .veInfoGet, .memPageAccept:
                XCTAssertTrue(registers.rax == 1 || registers.rax == 6, context)
            case let .vmcall(call, exposedMask):
                XCTAssertEqual(UInt64(exposedMask), registers.rcx & 0xFFFF, context)
                if case let .mapGPA(gpa, size) = call {
                    mapGPACalls += 1
                    checkMapGPA(gpa, size, rng.chance(1, in: 2) ? .bits48 : .bits52, &rng, context)
                }
            }
        }
        XCTAssertGreaterThan(mapGPACalls, 5_000)
    }

    func checkMapGPA(
        _ gpa: UInt64, _ size: UInt64, _ width: TDXGuestPhysicalAddressWidth,
        _ rng: inout SplitMix64, _ context: String
    ) {
        var processor: TDXMapGPAProcessor
        do {
            processor = try TDXMapGPAProcessor(gpa: gpa, size: size, width: width)
        } catch {
            XCTAssertEqual(error.completion.r11, gpa, context)
            XCTAssertTrue([0x8000_0000_0000_0000, 0x8000_0000_0000_0002].contains(error.completion.status), context)
            return
        }
        let base = gpa & ~width.sharedBit
        var expectedStart = base
        var lastNext = processor.next
        let retryAt = rng.chance(1, in: 3) ? Int.random(in: 1...4, using: &rng) : 0
        let failAt = rng.chance(1, in: 6) ? Int.random(in: 1...4, using: &rng) : 0
        var chunks = 0
        let completion = processor.run(retryAfterChunk: { $0 == retryAt }) { request in
            chunks += 1
            XCTAssertEqual(request.start, expectedStart, context)
            XCTAssertLessThanOrEqual(request.pageCount, 512, context)
            XCTAssertEqual(request.direction, width.isShared(gpa) ? .toShared : .toPrivate, context)
            XCTAssertLessThanOrEqual(request.range.upperBound, UInt128(base) + UInt128(size), context)
            expectedStart = request.range.end
            return chunks == failAt ? .hostFailure : .converted
        }
        XCTAssertGreaterThanOrEqual(processor.next, lastNext, context)
        lastNext = processor.next
        switch completion.status {
        case 0:
            XCTAssertEqual(expectedStart, base + size, context)
        case 1:
            XCTAssertEqual(completion.r11, processor.next, context)
            XCTAssertEqual(completion.r11.map { $0 & width.sharedBit }, gpa & width.sharedBit, context)
        case 0x8000_0000_0000_0000:
            XCTAssertEqual(chunks, failAt, context)
        default:
            XCTFail("unexpected status \(completion.status); \(context)")
        }
    }
}
