import GuestPhysical
import HostRunner

// Conversions on one vCPU: GuestStubs/scenarios/roundtrip-shared-first.asm, split-merge.asm,
// idempotent.asm and large-range.asm. Every range below is the stub's own constant.
extension Catalogue {
    static let mebibytes2: UInt64 = 2 << 20

    /// The page size the host recorded for each conversion, in order (the interface's hint:
    /// KVM's PAGE_SZ_* attribute, a PSC entry's size bit).
    static func pageSizes(_ expected: [UInt64]) -> Expectation {
        .custom("page sizes") { result in
            let actual = result.conversions.map(\.record.pageSize)
            guard actual != expected else { return nil }
            return "expected page sizes \(expected.map { hex($0) }), the host recorded \(actual.map { hex($0) })"
        }
    }

    /// `range` ends as one interval of the host's page-state map: whatever was split merged.
    static func merged(_ range: GPARange) -> Expectation {
        .custom("merged") { result in
            let intervals = result.finalStates.states(in: range)
            guard intervals.count != 1 else { return nil }
            return
                "\(range) ended as \(intervals.count) intervals (\(intervals.map { "\($0.range) \($0.state.rawValue)" }.joined(separator: ", "))), expected one"
        }
    }

    /// Which part of each conversion was already in the requested state, in order.
    static func unchanged(_ expected: [[GPARange]]) -> Expectation {
        .custom("unchanged") { result in
            let actual = result.conversions.map(\.record.unchanged)
            guard actual != expected else { return nil }
            return "expected already-converted parts \(expected), the host reported \(actual)"
        }
    }

    // roundtrip-shared-first.asm: the shared-area [4 MiB, 6 MiB), 64 KiB flipped.
    static let sharedArea = GPARange(start: 0x40_0000, end: 0x60_0000)
    static let sharedFirstWindow = (start: UInt64(0x41_0000), end: UInt64(0x42_0000))

    static let roundTripSharedFirst = Scenario(
        name: "roundtrip-shared-first",
        proves:
            "a range the plan starts shared goes shared→private→shared: exactly those two conversions, each flip destroys the old side's content, the pages either side keep theirs, and the area ends shared as one interval",
        failureMeans: "planned-shared memory does not start shared, or a conversion from shared is not destructive or touches its neighbours",
        expectations: { platform in
            [
                .guestPasses,
                .conversions([
                    ExpectedConversion(sharedFirstWindow.start, sharedFirstWindow.end, to: .private, form: form(platform)),
                    ExpectedConversion(sharedFirstWindow.start, sharedFirstWindow.end, to: .shared, form: form(platform)),
                ]),
                .finalState(sharedArea, .shared),
                merged(sharedArea),
            ]
        })

    // split-merge.asm: the 2 MiB aligned region [4 MiB, 6 MiB), split at its middle page.
    static let splitRegion = GPARange(start: 0x40_0000, end: 0x60_0000)
    static let splitPage = (start: UInt64(0x50_0000), end: UInt64(0x50_1000))

    static let splitMerge = Scenario(
        name: "split-merge",
        proves:
            "one 4 KiB page in the middle of a private 2 MiB region goes shared and back (split, merge) without touching its neighbours; the whole region then converts as one 2 MiB request (KVM PAGE_SZ_2M, one 2 MiB PSC entry, one 2 MiB MapGPA) and back; the page-state map ends as one private interval",
        failureMeans:
            "a partial conversion leaks into the rest of the 2 MiB region, a 2 MiB request is encoded or served wrongly, or the host does not merge what it split",
        expectations: { platform in
            var expectations: [Expectation] = [
                .guestPasses,
                .conversions([
                    ExpectedConversion(splitPage.start, splitPage.end, to: .shared, form: form(platform)),
                    ExpectedConversion(splitPage.start, splitPage.end, to: .private, form: form(platform)),
                    ExpectedConversion(splitRegion.start, splitRegion.end, to: .shared, form: form(platform)),
                    ExpectedConversion(splitRegion.start, splitRegion.end, to: .private, form: form(platform)),
                ]),
                .finalState(splitRegion, .private),
                merged(splitRegion),
            ]
            // KVM says the page size in its attributes, a PSC entry in its size bit; MapGPA
            // carries none, so there is nothing to check for TDX.
            if platform != .tdx { expectations.append(pageSizes([4096, 4096, mebibytes2, mebibytes2])) }
            return expectations
        })

    // idempotent.asm: 64 KiB of its 2 MiB area.
    static let idempotentArea = GPARange(start: 0x40_0000, end: 0x60_0000)
    static let idempotentRange = GPARange(start: 0x41_0000, end: 0x42_0000)

    static let idempotent = Scenario(
        name: "idempotent",
        proves:
            "converting a range to the state it is already in (private→private, shared→shared) succeeds, is logged with nothing flipped (the whole range reported unchanged), and keeps the content; the real flips around them still destroy it",
        failureMeans: "the host refuses or discards on a no-op conversion, or logs a flip that did not happen",
        expectations: { platform in
            let range = idempotentRange
            return [
                .guestPasses,
                .conversions([
                    ExpectedConversion(range.start, range.end, to: .private, form: form(platform), flipped: []),
                    ExpectedConversion(range.start, range.end, to: .shared, form: form(platform)),
                    ExpectedConversion(range.start, range.end, to: .shared, form: form(platform), flipped: []),
                    ExpectedConversion(range.start, range.end, to: .private, form: form(platform)),
                ]),
                unchanged([[range], [], [range], []]),
                .finalState(idempotentArea, .private),
                merged(idempotentArea),
            ]
        })

    // large-range.asm: 1 GiB at 1 GiB.
    static let largeRange = GPARange(start: 0x4000_0000, end: 0x8000_0000)
    /// The most PSC entries one GHCB call carries (the 2032-byte shared buffer: 8-byte
    /// header, 8-byte entries).
    static let pscEntriesPerCall: UInt64 = 253

    /// The requests the host must see for one direction of large-range.asm, derived from how
    /// each interface carries 1 GiB in one request.
    static func largeRangeRequests(_ platform: ConversionPlatform, to direction: PageState) -> [ExpectedConversion] {
        let form = form(platform)
        func pieces(of size: UInt64) -> [ExpectedConversion] {
            stride(from: largeRange.start, to: largeRange.end, by: Int(size)).map { start in
                ExpectedConversion(start, min(start + size, largeRange.end), to: direction, form: form)
            }
        }
        switch platform {
        case .kvm:
            // One hypercall: npages = 1 GiB / 4 KiB = 262144.
            return pieces(of: largeRange.size)
        case .sevSNP:
            // 512 2 MiB entries, at most 253 a call: 253 + 253 + 6; the host merges each
            // call's contiguous entries into one request.
            return pieces(of: pscEntriesPerCall * mebibytes2)
        case .tdx:
            // One MapGPA, which KVM (and so the runner) serves in TDX_MAP_GPA_MAX_LEN = 2 MiB
            // chunks: 512 requests.
            return pieces(of: mebibytes2)
        }
    }

    static let largeRangeScenario = Scenario(
        name: "large-range",
        stub: "large-range",
        proves:
            "1 GiB of guest-physical memory (at 1 GiB; guest RAM 2 GiB, sparsely backed) converts private→shared→private with one request per direction (KVM: npages 262144; SNP: 512 2 MiB PSC entries in calls of ≤ 253; TDX: one MapGPA, served in 2 MiB chunks), and the probed pages flip",
        failureMeans: "a large request is cut, encoded or chunked wrongly, or the host cannot back a sparse range",
        configure: { options, _ in options.memory = largeRange.end },
        expectations: { platform in
            let toShared = largeRangeRequests(platform, to: .shared), toPrivate = largeRangeRequests(platform, to: .private)
            var expectations: [Expectation] = [
                .guestPasses,
                .conversions(toShared + toPrivate),
                .rejections(0),
                .finalState(largeRange, .private),
                merged(largeRange),
            ]
            if platform != .tdx { expectations.append(pageSizes(Array(repeating: mebibytes2, count: toShared.count * 2))) }
            return expectations
        })
}
