import Foundation
import GuestPhysical
import HostRunner
import KVM
import Payload
import TestSupport
import XCTest

/// Issue 4's acceptance, end to end on /dev/kvm, for each of the three interfaces: the
/// scenario stubs of GuestStubs/scenarios run through the trap transport, and both sides are
/// checked against what the stub asks and what the specs answer (docs/abi.md §1–§3), never
/// against the runner's own output.
final class ConversionEndToEndTests: XCTestCase {
    // MARK: private → shared → private (roundtrip.asm: 64 KiB at 0x410000, 4 KiB granules)

    func testKVMHypercallRoundTrip() throws {
        try assertRoundTrip(.kvm, form: "KVM_HC_MAP_GPA_RANGE", platformID: 1)
    }

    func testGHCBPageStateChangeRoundTrip() throws {
        // 16 contiguous 4 KiB entries of one operation merge into one request, as KVM merges them.
        try assertRoundTrip(.sevSNP, form: "GHCB PSC NAE event", platformID: 2)
    }

    func testTDXMapGPARoundTrip() throws {
        // MapGPA carries no page size: KVM's exit has none (4 KiB granules).
        try assertRoundTrip(.tdx, form: "TDVMCALL MapGPA", platformID: 3)
    }

    private func assertRoundTrip(_ platform: ConversionPlatform, form: String, platformID: UInt64, line: UInt = #line) throws {
        let result = try ConversionRun.run("roundtrip", platform: platform)
        let window = GPARange(start: 0x41_0000, end: 0x42_0000)
        XCTAssertEqual(result.conversions.map(\.vcpu), [0, 0], line: line)
        XCTAssertEqual(
            result.conversions.map { Served($0.record) },
            [
                Served(platform, form, window, .shared, pageSize: 0x1000),
                Served(platform, form, window, .private, pageSize: 0x1000),
            ], line: line)
        assertChecks(
            result,
            [
                "roundtrip.to_shared": 0,
                "roundtrip.shared.old_content_gone": 0,
                "roundtrip.shared.readback": 0,
                "roundtrip.neighbours_intact": 0,
                "roundtrip.to_private": 0,
                "roundtrip.private.shared_content_gone": 0,
                "roundtrip.private.readback": 0,
            ], line: line)
        XCTAssertEqual(
            result.values,
            [
                "roundtrip.platform": platformID, "roundtrip.to_shared.rax": 0, "roundtrip.to_private.rax": 0,
            ], line: line)
        XCTAssertEqual(result.rejections, [], line: line)
        XCTAssertEqual(
            result.finalStates.states(in: GPARange(start: 0x40_0000, end: 0x60_0000)),
            [PageStateMap.Interval(range: GPARange(start: 0x40_0000, end: 0x60_0000), state: .private)], line: line)
        XCTAssertEqual(result.exitCodes, [0: 0], line: line)
        XCTAssertTrue(result.passed, "\(result.failures)", line: line)
    }

    // MARK: GHCB at its limits (ghcb-batch.asm)

    func testGHCBBatchOf253EntriesTwoMiBEntriesAndMSRProtocolPage() throws {
        let result = try ConversionRun.run("ghcb-batch", platform: .sevSNP)
        let nae = "GHCB PSC NAE event", msr = "GHCB MSR protocol PSC"
        // 253 entries from 0x400000: [0x400000, 0x400000 + 253 × 4 KiB) in one request.
        let batch = GPARange(start: 0x40_0000, end: 0x40_0000 + 253 * 0x1000)
        let huge = GPARange(start: 0x40_0000, end: 0x80_0000) // two 2 MiB entries
        let msrPage = GPARange(start: 0x7F_F000, end: 0x80_0000) // the area's last page
        XCTAssertEqual(
            result.conversions.map { Served($0.record) },
            [
                Served(.sevSNP, nae, batch, .shared, pageSize: 0x1000),
                Served(.sevSNP, nae, batch, .private, pageSize: 0x1000),
                Served(.sevSNP, nae, huge, .shared, pageSize: 0x20_0000),
                Served(.sevSNP, nae, huge, .private, pageSize: 0x20_0000),
                Served(.sevSNP, msr, msrPage, .shared, pageSize: 0x1000),
                Served(.sevSNP, msr, msrPage, .private, pageSize: 0x1000),
            ])
        assertChecks(
            result,
            [
                "ghcb.platform": 2, // EN_PLATFORM_SNP
                "ghcb.init": 0,
                "ghcb.batch253.exitinfo2": 0,
                "ghcb.batch253.cur_entry": 253, // every entry consumed: cur_entry = end_entry + 1
                "ghcb.batch253.cur_page": 0, // entries whose cur_page is not 1 (4 KiB done)
                "ghcb.batch253.back.exitinfo2": 0,
                "ghcb.huge.exitinfo2": 0,
                "ghcb.huge.cur_entry": 2,
                "ghcb.huge.cur_page": 0, // entries whose cur_page is not 512 (2 MiB done)
                "ghcb.huge.back.exitinfo2": 0,
                "ghcb.msr_page.validated": 0, // PVALIDATE of the page the 2 MiB PSC made private
                "ghcb.msr_page.rescinded": 0, // rescinded before it goes shared
                "ghcb.msr_psc.shared": 0x015, // GHCB_MSR_PSC_RESP, error field 0
                "ghcb.msr_psc.old_content_gone": 0,
                "ghcb.msr_psc.private": 0x015,
                "ghcb.psc254.refused": 0x454E_0000_0000_0002, // the library's EN_ABI_ERR_BAD_ARGUMENT, nothing sent
                "ghcb.batch254.exitinfo2": 1 << 32 | 1, // VMGEXIT_PSC_ERROR_INVALID_HDR: end_entry 253 ≥ 253
                "ghcb.batch254.cur_entry": 0,
            ])
        // KVM finishes every run of a PSC inside one VMGEXIT, so each batch takes exactly one.
        XCTAssertEqual(result.values, ["ghcb.batch253.vmgexits": 1, "ghcb.huge.vmgexits": 1])
        XCTAssertEqual(result.rejections.count, 1, "only the 254-entry header is refused: \(result.rejections)")
        XCTAssertEqual(result.finalStates.states(in: huge), [PageStateMap.Interval(range: huge, state: .private)])
        XCTAssertTrue(result.passed, "\(result.failures)")
    }

    // MARK: TDX RETRY (tdx-retry.asm: 4 MiB at 0x400000, two of KVM's 2 MiB chunks)

    private static let sharedBit: UInt64 = 1 << 47 // GPAW 48

    func testTDXRetryForcedByTheRunnerIsResumedFromR11() throws {
        let result = try ConversionRun.run("tdx-retry", platform: .tdx) { $0.injectRetries = 1 }
        let first = GPARange(start: 0x40_0000, end: 0x60_0000), second = GPARange(start: 0x60_0000, end: 0x80_0000)
        // RETRY after the first 2 MiB; the guest asks again from R11 = 0x600000 | shared bit, so
        // the second chunk is still a conversion to shared.
        XCTAssertEqual(
            result.conversions.map { Served($0.record) },
            [
                Served(.tdx, "TDVMCALL MapGPA", first, .shared, pageSize: 0x1000),
                Served(.tdx, "TDVMCALL MapGPA", second, .shared, pageSize: 0x1000),
                Served(.tdx, "TDVMCALL MapGPA", first, .private, pageSize: 0x1000),
                Served(.tdx, "TDVMCALL MapGPA", second, .private, pageSize: 0x1000),
            ])
        let retries = result.retryAnswers
        XCTAssertEqual(retries.count, 1, "\(retries)")
        XCTAssertTrue(retries.first?.contains(hex(Self.sharedBit | 0x60_0000)) ?? false, "R11 must name where to resume: \(retries)")
        assertChecks(
            result,
            [
                "tdx.platform": 3,
                "tdx.shared_bit": Self.sharedBit,
                "tdx.retry.to_shared": 0,
                "tdx.retry.to_shared.retried": 1,
                "tdx.retry.shared.old_content_gone": 0,
                "tdx.retry.shared.readback": 0,
                "tdx.retry.to_private": 0,
                "tdx.retry.accepted": 0,
                "tdx.retry.private.shared_content_gone": 0,
            ])
        XCTAssertEqual(
            result.values,
            [
                "tdx.gpaw": 48, "tdx.retry.to_shared.status": 0, "tdx.retry.to_shared.retries": 1, "tdx.retry.to_private.retries": 0,
            ])
        XCTAssertTrue(result.passed, "\(result.failures)")
    }

    /// The retry test is not vacuous: without the injected RETRY the guest's own "retried"
    /// check fails, and the run with it.
    func testTDXRetryStubFailsWithoutAnInjectedRetry() throws {
        let result = try ConversionRun.run("tdx-retry", platform: .tdx)
        XCTAssertEqual(result.retryAnswers, [])
        XCTAssertEqual(result.check("tdx.retry.to_shared.retried")?.actual, 0)
        XCTAssertEqual(result.check("tdx.retry.to_shared.retried")?.passed, false)
        XCTAssertEqual(result.values["tdx.retry.to_shared.retries"], 0)
        XCTAssertFalse(result.passed)
        XCTAssertTrue(result.failures.contains { $0.contains("tdx.retry.to_shared.retried") }, "\(result.failures)")
    }

    /// `injectRetries` (`--inject-retry N`) promises N RETRY answers. The 4 MiB to-shared call
    /// can take only one (after its first chunk; the resumed 2 MiB is its last), so the second
    /// belongs to the 4 MiB to-private call.
    /// (Regression: a retry used to be spent on the resumed call's last chunk, where no RETRY
    /// can be answered; fixed in b28bea9.)
    func testEveryInjectedRetryIsAnsweredToSomeMapGPA() throws {
        let result = try ConversionRun.run("tdx-retry", platform: .tdx) { $0.injectRetries = 2 }
        XCTAssertEqual(result.retryAnswers.count, 2, "\(result.retryAnswers)")
        XCTAssertEqual(result.values["tdx.retry.to_shared.retries"], 1)
        XCTAssertEqual(result.values["tdx.retry.to_private.retries"], 1)
        XCTAssertEqual(result.conversions.count, 4)
        XCTAssertTrue(result.passed, "\(result.failures)")
    }

    // MARK: hostile guests: every malformed request gets its spec error, and the guest goes on

    func testHostileKVMHypercallsGetKVMErrorsAndTheGuestContinues() throws {
        let result = try ConversionRun.run("hostile-kvm", platform: .kvm)
        let einval: UInt64 = 0xFFFF_FFFF_FFFF_FFEA // -KVM_EINVAL (22)
        assertChecks(
            result,
            [
                "kvm.platform": 1,
                "kvm.unaligned.rax": einval, // !PAGE_ALIGNED(gpa)
                "kvm.zero_pages.rax": einval, // npages == 0
                "kvm.wrap.rax": einval, // gfn + npages wraps
                "kvm.reserved_attrs.rax": einval, // bits KVM leaves undefined: Enlighten's documented policy
                "kvm.unbacked.rax": 0xFFFF_FFFF_FFFF_FFF2, // -KVM_EFAULT (14): not guest memory (the VMM's answer)
                "kvm.after_hostile.to_shared.rax": 0,
                "kvm.after_hostile.to_private.rax": 0,
            ])
        XCTAssertEqual(result.rejections.count, 4)
        XCTAssertTrue(result.rejections.allSatisfy { $0.interface == .kvm && $0.transport == .trap })
        let page = GPARange(start: 0x40_0000, end: 0x40_1000)
        XCTAssertEqual(
            result.conversions.map { Served($0.record) },
            [
                Served(
                    .kvm, "KVM_HC_MAP_GPA_RANGE", GPARange(start: 0x100_0000_0000, end: 0x100_0000_1000), .private,
                    pageSize: 0x1000, outcome: "outsideGuestMemory", flipped: []),
                Served(.kvm, "KVM_HC_MAP_GPA_RANGE", page, .shared, pageSize: 0x1000),
                Served(.kvm, "KVM_HC_MAP_GPA_RANGE", page, .private, pageSize: 0x1000),
            ])
        assertRanToTheEnd(result, lastCheck: "kvm.after_hostile.to_private.rax")
    }

    func testHostileGHCBRequestsGetGHCBErrorsAndTheGuestContinues() throws {
        let result = try ConversionRun.run("hostile-ghcb", platform: .sevSNP)
        let invalidHeader: UInt64 = 1 << 32 | 1, invalidEntry: UInt64 = 1 << 32 | 2, generic: UInt64 = 0x100 << 32
        let malformed: UInt64 = 2 // SW_EXITINFO1 = GHCB_HV_RESP_MALFORMED_INPUT
        assertChecks(
            result,
            [
                "ghcb.platform": 2,
                "ghcb.init": 0,
                "ghcb.end_entry_253.exitinfo2": invalidHeader,
                "ghcb.end_entry_253.cur_entry": 0,
                "ghcb.unknown_op.exitinfo2": invalidEntry, // GHCB spec (Linux KVM would skip the entry)
                "ghcb.2m_unaligned.exitinfo2": invalidEntry,
                "ghcb.cur_after_end.exitinfo2": 0, // KVM: nothing to do
                "ghcb.cur_after_end.header": 1, // cur_entry 1, end_entry 0, untouched
                "ghcb.cur_after_end.content_kept": 0,
                "ghcb.unbacked.exitinfo2": generic, // the VMM failed the conversion
                "ghcb.usage.exitinfo1": malformed,
                "ghcb.usage.exitinfo2": 2, // GHCB_ERR_INVALID_USAGE
                "ghcb.missing_valid.exitinfo1": malformed,
                "ghcb.missing_valid.exitinfo2": 4, // GHCB_ERR_MISSING_INPUT
                "ghcb.missing_scratch.exitinfo1": malformed,
                "ghcb.missing_scratch.exitinfo2": 4,
                "ghcb.scratch_outside.exitinfo1": malformed,
                "ghcb.scratch_outside.exitinfo2": 3, // GHCB_ERR_INVALID_SCRATCH_AREA
                "ghcb.unknown_exit.exitinfo1": malformed,
                "ghcb.unknown_exit.exitinfo2": 6, // GHCB_ERR_INVALID_EVENT
                "ghcb.msr_psc.unknown_op": 0x8000_0000_0000_0015, // GHCB_MSR_PSC_RESP_ERROR
                "ghcb.msr_psc.unbacked": 0x8000_0000_0000_0015,
                "ghcb.after_hostile.exitinfo2": 0,
                "ghcb.after_hostile.back.exitinfo2": 0,
            ])
        // Only the unbacked requests reach the conversion service (and fail); nothing else converts.
        let unbacked = GPARange(start: 0x100_0000_0000, end: 0x100_0000_1000), page = GPARange(start: 0x40_0000, end: 0x40_1000)
        XCTAssertEqual(
            result.conversions.map { Served($0.record) },
            [
                Served(.sevSNP, "GHCB PSC NAE event", unbacked, .shared, pageSize: 0x1000, outcome: "outsideGuestMemory", flipped: []),
                Served(.sevSNP, "GHCB MSR protocol PSC", unbacked, .shared, pageSize: 0x1000, outcome: "outsideGuestMemory", flipped: []),
                Served(.sevSNP, "GHCB PSC NAE event", page, .shared, pageSize: 0x1000),
                Served(.sevSNP, "GHCB PSC NAE event", page, .private, pageSize: 0x1000),
            ])
        assertRanToTheEnd(result, lastCheck: "ghcb.after_hostile.back.exitinfo2")
    }

    func testHostileTDXRequestsGetTDXStatusesAndTheGuestContinues() throws {
        let result = try ConversionRun.run("hostile-tdx", platform: .tdx)
        let invalidOperand: UInt64 = 0x8000_0000_0000_0000, alignError: UInt64 = 0x8000_0000_0000_0002
        assertChecks(
            result,
            [
                "tdx.platform": 3,
                "tdx.shared_bit": Self.sharedBit,
                "tdx.unaligned_gpa.r10": alignError,
                "tdx.unaligned_gpa.r11": 0x40_0800, // R11 = the request's gpa
                "tdx.unaligned_size.r10": alignError,
                "tdx.zero_size.r10": invalidOperand, // gpa + 0 <= gpa: KVM's wrap check
                "tdx.wrap.r10": invalidOperand,
                "tdx.straddle.r10": invalidOperand,
                "tdx.straddle.r11": Self.sharedBit - 0x1000,
                "tdx.straddle_unaligned.r10": invalidOperand, // the straddle is checked before alignment
                "tdx.unbacked.r10": invalidOperand, // the VMM failed the chunk
                "tdx.unbacked.r11": 0x100_0000_0000,
                "tdx.unknown_subfunction.r10": 0x8000_0000_0000_0003, // SUBFUNC_UNSUPPORTED
                "tdx.unknown_leaf.rax": 0xC000_0100_0000_0000, // TDX_OPERAND_INVALID, operand RAX
                "tdx.after_hostile.to_shared": 0,
                "tdx.after_hostile.to_private": 0,
            ])
        let page = GPARange(start: 0x40_0000, end: 0x40_1000)
        XCTAssertEqual(
            result.conversions.map { Served($0.record) },
            [
                Served(
                    .tdx, "TDVMCALL MapGPA", GPARange(start: 0x100_0000_0000, end: 0x100_0000_1000), .private,
                    pageSize: 0x1000, outcome: "outsideGuestMemory", flipped: []),
                Served(.tdx, "TDVMCALL MapGPA", page, .shared, pageSize: 0x1000),
                Served(.tdx, "TDVMCALL MapGPA", page, .private, pageSize: 0x1000),
            ])
        assertRanToTheEnd(result, lastCheck: "tdx.after_hostile.to_private")
    }

    /// A GHCB in private memory: a hypervisor can neither read it nor answer in it. KVM fails
    /// to map it and KVM_RUN fails, so the run stops there with that diagnosis, having
    /// converted nothing through it and written nothing into it. (Regression for the
    /// hostile-hardening issue's finding 6: the host used to answer "malformed input" by
    /// writing into the private page and let the guest go on.)
    func testGHCBInPrivateMemoryStopsTheRunWithoutTheHostWritingIntoIt() throws {
        let result = try ConversionRun.run("broken-ghcb-private.asm", platform: .sevSNP)
        let ghcb = try XCTUnwrap(result.image.symbols.address(of: "ghcb_page"))
        let ghcbPage = GPARange(start: ghcb, end: ghcb + 0x1000)
        XCTAssertFalse(result.passed)
        guard case .platformStopped(let reason)? = result.stops.first?.reason else { return XCTFail("\(result.failures)") }
        XCTAssertTrue(reason.contains("GHCB at \(hex(ghcb)) in private memory"), reason)
        XCTAssertEqual(result.rejections.count, 0, "nothing was answered through the private GHCB")
        XCTAssertEqual(
            result.conversions.map { Served($0.record) },
            [
                Served(.sevSNP, "GHCB MSR protocol PSC", ghcbPage, .private, pageSize: 0x1000)
            ], "only the MSR-protocol PSC that made the GHCB private")
        XCTAssertNil(result.values["ghcbpriv.exitinfo1"], "the guest did not go on past the VMGEXIT")
    }

    /// The trap transport checks the bytes at every labelled request site and refuses an image
    /// whose site holds no request instruction, naming the site, before anything runs.
    func testMislabelledRequestSiteIsRefusedBeforeRunning() throws {
        XCTAssertThrowsError(try ConversionRun.run("broken-site-label.asm", platform: .kvm)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("__enlighten_site_mislabelled"), message)
            XCTAssertTrue(message.contains("90"), "the bytes found (nop = 0x90): \(message)")
        }
    }

    /// Exit code 0, every CHECK passed, and the valid requests after the hostile ones were served
    /// after every refusal (the guest went on rather than stopping at the first error).
    private func assertRanToTheEnd(_ result: RunResult, lastCheck: String, line: UInt = #line) {
        XCTAssertEqual(result.exitCodes, [0: 0], line: line)
        XCTAssertEqual(result.stops.count, 0, line: line)
        XCTAssertTrue(result.passed, "\(result.failures)", line: line)
        let lastRefusal = result.events.lastIndex { if case .rejected = $0 { true } else { false } }
        let lastConversion = result.events.lastIndex { if case .conversion = $0 { true } else { false } }
        XCTAssertNotNil(lastRefusal, line: line)
        if let lastRefusal, let lastConversion { XCTAssertLessThan(lastRefusal, lastConversion, line: line) }
        XCTAssertNotNil(result.check(lastCheck), line: line)
    }
}

// MARK: - helpers

/// A conversion as the event log must show it (everything but the time it took).
struct Served: Equatable, CustomStringConvertible {
    let interface: ConversionPlatform
    let form: String
    let transport: Transport
    let range: GPARange
    let direction: PageState
    let pageSize: UInt64
    let outcome: String
    let flipped: [GPARange]
    let unchanged: [GPARange]

    /// Served through the trap transport; a successful conversion flips its whole range.
    init(
        _ interface: ConversionPlatform, _ form: String, _ range: GPARange, _ direction: PageState, pageSize: UInt64,
        outcome: String = "converted", flipped: [GPARange]? = nil, unchanged: [GPARange] = [], transport: Transport = .trap
    ) {
        self.interface = interface
        self.form = form
        self.transport = transport
        self.range = range
        self.direction = direction
        self.pageSize = pageSize
        self.outcome = outcome
        self.flipped = flipped ?? [range]
        self.unchanged = unchanged
    }

    init(_ record: ConversionRecord) {
        self.init(
            record.interface, record.form.description, record.range, record.direction, pageSize: record.pageSize,
            outcome: record.outcome.name, flipped: record.flipped, unchanged: record.unchanged, transport: record.transport)
    }

    var description: String {
        "\(range) → \(direction.rawValue) via \(form) (\(interface.rawValue), \(transport.rawValue)), page \(hex(pageSize)), \(outcome), flipped \(flipped), unchanged \(unchanged)"
    }
}

extension RunResult {
    /// The one CHECK record of that name (nil if none; a test failure if several).
    func check(_ name: String) -> (actual: UInt64, expected: UInt64, passed: Bool)? {
        let matches = events.compactMap { event -> (UInt64, UInt64, Bool)? in
            if case .record(_, .check(name, let actual, let expected, let passed)) = event { (actual, expected, passed) } else { nil }
        }
        XCTAssertLessThanOrEqual(matches.count, 1, "CHECK '\(name)' sent \(matches.count) times")
        return matches.first
    }

    var checkNames: [String] {
        events.compactMap { if case .record(_, .check(let name, _, _, _)) = $0 { name } else { nil } }
    }

    var rejections: [RejectedRequest] {
        events.compactMap { if case .rejected(_, let request) = $0 { request } else { nil } }
    }

    /// The answers of MapGPA calls the host ended with TDVMCALL_STATUS_RETRY.
    var retryAnswers: [String] {
        events.compactMap { event in
            if case .served(_, .tdx, .mapGPA, let answer) = event, answer.hasPrefix("RETRY") { answer } else { nil }
        }
    }
}

/// Every CHECK the stub sends, by name, with the value the spec says it must see; the stub
/// must send no other CHECK and each must have passed in the guest too.
func assertChecks(_ result: RunResult, _ expected: [String: UInt64], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(Set(result.checkNames), Set(expected.keys), "the CHECKs the stub sent", file: file, line: line)
    for (name, value) in expected.sorted(by: { $0.key < $1.key }) {
        guard let check = result.check(name) else {
            XCTFail("the guest sent no CHECK '\(name)'", file: file, line: line)
            continue
        }
        XCTAssertEqual(check.actual, value, "CHECK '\(name)': the guest saw \(hex(check.actual)), the spec says \(hex(value))", file: file, line: line)
        XCTAssertTrue(check.passed, "CHECK '\(name)' failed in the guest", file: file, line: line)
    }
}

/// Runs scenario stubs on /dev/kvm through the trap transport, with the host probed once and
/// each image built once per test process.
enum ConversionRun {
    private static let probe: Result<HostProbe, any Error> = Result {
        try HostProbe.run(system: try KVMHost.system())
    }
    private static let builder: Result<ImageBuilder, any Error> = Result {
        let builder = try ImageBuilder(toolchain: try Toolchain.locate(), root: KVMHost.root)
        RemoveAtExit.folder(builder.scratchFolder)
        return builder
    }
    private static let images = ImageCache()

    static func run(_ stub: String, platform: ConversionPlatform, configure: (inout RunOptions) -> Void = { _ in }) throws -> RunResult {
        let system = try KVMHost.system()
        var options = RunOptions()
        options.platform = platform
        options.transport = .trap
        options.timeout = 10
        configure(&options)
        // A file name ending in .asm is one of Tests/EndToEndTests/Stubs; anything else a scenario.
        let source = stub.hasSuffix(".asm") ? KVMHost.root.path + "/Tests/EndToEndTests/Stubs/" + stub : stub
        let image = try images.image(stub) { try builder.get().build(try StubSource.resolve(source, root: KVMHost.root), layout: .direct64) }
        return try Runner.run(image, options: options, system: system, probe: try probe.get())
    }

    private final class ImageCache: @unchecked Sendable {
        private let lock = NSLock()
        private var images: [String: Image] = [:]

        func image(_ name: String, build: () throws -> Image) throws -> Image {
            lock.lock()
            defer { lock.unlock() }
            if let image = images[name] { return image }
            let image = try build()
            images[name] = image
            return image
        }
    }
}
