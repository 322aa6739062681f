import GuestPhysical
import Payload
import TestSupport
import XCTest

@testable import HostRunner

/// The page-state model's platform rules, transition by transition, each against the value
/// the SNP/TDX sources give (docs/platform-model.md), then a property test against a
/// naive per-page reference.
final class PlatformMemoryModelTests: XCTestCase {
    private static let ram = GPARange(start: 0, end: 8 << 20)
    private static let sharedBit: UInt64 = 1 << 47
    private let pending = Page(state: .private, acceptance: .pending)
    private let accepted = Page(state: .private, acceptance: .accepted)
    private let shared = Page(state: .shared, acceptance: .notApplicable)

    private func map(_ platform: ConversionPlatform) -> PageStateMap {
        PageStateMap.launchState(
            ram: Self.ram,
            plan: [
                PlanRange(name: "image", range: GPARange(start: 0x10_0000, end: 0x10_4000), kind: .measured, state: .private),
                PlanRange(name: "ghcb", range: GPARange(start: 0x10_4000, end: 0x10_5000), kind: .shared, state: .shared),
            ], platform: platform)
    }

    func testLaunchState() {
        for platform in [ConversionPlatform.sevSNP, .tdx] {
            let map = map(platform)
            XCTAssertEqual(map.page(at: 0x10_0000), accepted, "populated at launch: validated/accepted")
            XCTAssertEqual(map.page(at: 0x10_4000), shared, "planned shared: hypervisor-owned")
            XCTAssertEqual(map.page(at: 0x40_0000), pending, "other RAM: private, not validated/accepted")
            XCTAssertNil(map.page(at: Self.ram.end))
        }
        XCTAssertEqual(map(.kvm).page(at: 0x40_0000), Page(state: .private, acceptance: .notApplicable))
    }

    func testConversionsResetTheGuestHalfOnlyWhereTheyFlip() {
        var map = map(.sevSNP)
        let change = map.set(GPARange(start: 0x10_0000, end: 0x10_2000), to: .private, flippedAcceptance: .pending)
        XCTAssertEqual(change.flipped, [])
        XCTAssertEqual(map.page(at: 0x10_0000), accepted, "a no-op PSC leaves the RMP entry alone")
        map.set(GPARange(start: 0x10_0000, end: 0x10_1000), to: .shared, flippedAcceptance: .notApplicable)
        XCTAssertEqual(map.page(at: 0x10_0000), shared)
        map.set(GPARange(start: 0x10_0000, end: 0x10_1000), to: .private, flippedAcceptance: .pending)
        XCTAssertEqual(map.page(at: 0x10_0000), pending, "back to private: guest-owned, not validated")
    }

    func testPValidateResults() {
        var map = map(.sevSNP)
        let page = UInt64(0x40_0000)
        XCTAssertEqual(map.pvalidate(gpa: page, pageSize: 0, validate: 1, ram: Self.ram), .success)
        XCTAssertEqual(map.page(at: page), accepted)
        let again = map.pvalidate(gpa: page, pageSize: 0, validate: 1, ram: Self.ram)
        XCTAssertEqual(again, .noUpdate)
        XCTAssertEqual(again.rax, 0)
        XCTAssertTrue(again.carry, "no update is RAX 0 with CF set")
        XCTAssertEqual(map.pvalidate(gpa: page, pageSize: 0, validate: 0, ram: Self.ram), .success)
        XCTAssertEqual(map.pvalidate(gpa: page, pageSize: 0, validate: 0, ram: Self.ram), .noUpdate, "rescinding twice")
        let huge = map.pvalidate(gpa: 0x40_0000, pageSize: 1, validate: 1, ram: Self.ram)
        XCTAssertEqual(huge, .sizeMismatch)
        XCTAssertEqual(huge.rax, 6, "FAIL_SIZEMISMATCH")
        XCTAssertEqual(map.pvalidate(gpa: 0x40_1000, pageSize: 1, validate: 1, ram: Self.ram).rax, 1, "unaligned 2 MiB: FAIL_INPUT")
        XCTAssertEqual(map.pvalidate(gpa: page, pageSize: 2, validate: 1, ram: Self.ram).rax, 1)
        XCTAssertEqual(map.pvalidate(gpa: page, pageSize: 0, validate: 2, ram: Self.ram).rax, 1)
        XCTAssertEqual(
            map.pvalidate(gpa: 0x10_4000, pageSize: 0, validate: 1, ram: Self.ram),
            .hypervisorOwned(GPARange(start: 0x10_4000, end: 0x10_5000)))
        XCTAssertEqual(map.pvalidate(gpa: Self.ram.end, pageSize: 0, validate: 1, ram: Self.ram), .outsideMemory)
    }

    func testAcceptResults() {
        var map = map(.tdx)
        let page = UInt64(0x40_0000)
        XCTAssertEqual(map.accept(rcx: page, sharedBit: Self.sharedBit, ram: Self.ram), .accepted(GPARange(start: page, end: page + 0x1000)))
        XCTAssertEqual(map.page(at: page), accepted)
        XCTAssertEqual(map.accept(rcx: page, sharedBit: Self.sharedBit, ram: Self.ram).rax, 0x0000_0B0A_0000_0000, "PAGE_ALREADY_ACCEPTED, level 0")
        XCTAssertEqual(map.accept(rcx: 0x20_0000 | 1, sharedBit: Self.sharedBit, ram: Self.ram).rax, 0xC000_0B0B_0000_0001, "PAGE_SIZE_MISMATCH, level 1")
        XCTAssertEqual(map.accept(rcx: page | 2, sharedBit: Self.sharedBit, ram: Self.ram).rax, 0xC000_0100_0000_0001, "1 GiB: OPERAND_INVALID + RCX")
        XCTAssertEqual(map.accept(rcx: page | Self.sharedBit, sharedBit: Self.sharedBit, ram: Self.ram).rax, 0xC000_0100_0000_0001, "shared GPA")
        XCTAssertEqual(map.accept(rcx: page | 0x8, sharedBit: Self.sharedBit, ram: Self.ram).rax, 0xC000_0100_0000_0001, "reserved bits")
        XCTAssertEqual(map.accept(rcx: 0x40_1000 | 1, sharedBit: Self.sharedBit, ram: Self.ram).rax, 0xC000_0100_0000_0001, "misaligned 2 MiB")
        XCTAssertEqual(map.accept(rcx: 1 << 48, sharedBit: Self.sharedBit, ram: Self.ram).rax, 0xC000_0100_0000_0001, "beyond GPAW")
        XCTAssertEqual(map.accept(rcx: 0x10_4000, sharedBit: Self.sharedBit, ram: Self.ram), .notPrivate(GPARange(start: 0x10_4000, end: 0x10_5000)))
        XCTAssertNil(AcceptResultProbe.rax(of: map.accept(rcx: Self.ram.end, sharedBit: Self.sharedBit, ram: Self.ram)))
    }

    func testAccessOutcomes() {
        for platform in [ConversionPlatform.sevSNP, .tdx] {
            let map = map(platform)
            for isWrite in [false, true] {
                XCTAssertEqual(map.access(gpa: 0x10_0010, privateView: true, isWrite: isWrite, platform: platform), .allowed)
                XCTAssertEqual(map.access(gpa: 0x40_0010, privateView: true, isWrite: isWrite, platform: platform), .notAccepted)
                XCTAssertEqual(
                    map.access(gpa: 0x10_4008, privateView: true, isWrite: isWrite, platform: platform),
                    .implicitConversion(GPARange(start: 0x10_4000, end: 0x10_5000), to: .private))
                XCTAssertEqual(map.access(gpa: 0x10_4008, privateView: false, isWrite: isWrite, platform: platform), .allowed)
                XCTAssertEqual(map.access(gpa: Self.ram.end, privateView: true, isWrite: isWrite, platform: platform), .outsideMemory)
            }
            XCTAssertEqual(
                map.access(gpa: 0x40_0010, privateView: false, isWrite: true, platform: platform),
                .implicitConversion(GPARange(start: 0x40_0000, end: 0x40_1000), to: .shared))
        }
        // A shared-view read of a private page: TDX's shared EPT does not map it (an EPT
        // violation, converted); SNP's RMP does not check C=0 reads (APM table 15-39).
        XCTAssertEqual(
            map(.tdx).access(gpa: 0x40_0010, privateView: false, isWrite: false, platform: .tdx),
            .implicitConversion(GPARange(start: 0x40_0000, end: 0x40_1000), to: .shared))
        XCTAssertEqual(map(.sevSNP).access(gpa: 0x40_0010, privateView: false, isWrite: false, platform: .sevSNP), .ciphertextRead)
        XCTAssertEqual(
            map(.sevSNP).access(gpa: 0x10_0010, privateView: false, isWrite: false, platform: .sevSNP), .ciphertextRead,
            "validated or not")
        XCTAssertEqual(map(.kvm).access(gpa: 0x40_0010, privateView: true, isWrite: false, platform: .kvm), .allowed, "no validation concept on KVM")
    }

    /// Random operation sequences against a naive model that keeps one value per page; both
    /// must agree on every answer and on every page afterwards. `PAGE_MODEL_SEED` replays.
    func testAgreesWithAPerPageReference() {
        let seed = SplitMix64.seed(fromEnvironment: "PAGE_MODEL_SEED", default: UInt64.random(in: 0 ... .max))
        print("PlatformMemoryModelTests seed \(hex(seed)) (replay with PAGE_MODEL_SEED=\(hex(seed)))")
        var rng = SplitMix64(seed: seed)
        let pages: UInt64 = 1024 // 4 MiB: two 2 MiB regions
        let ram = GPARange(start: 0, end: pages << 12)
        for sequence in 0..<100_000 {
            let platform: ConversionPlatform = [.kvm, .sevSNP, .tdx][Int(rng.next() % 3)]
            var map = PageStateMap.launchState(ram: ram, plan: [], platform: platform)
            var reference = [Page](repeating: map.page(at: 0)!, count: Int(pages))
            for step in 0..<8 {
                let context = "seed \(hex(seed)) sequence \(sequence) step \(step) \(platform)"
                // Clustered addresses make neighbours, merges and splits common.
                let frame = rng.chance(1, in: 2) ? rng.next() % 16 + 504 : rng.next() % pages
                let gpa = frame << 12
                // PVALIDATE exists on SNP only and ACCEPT on TDX only (#UD elsewhere).
                var operation = rng.next() % 4
                if (operation == 1 && platform != .sevSNP) || (operation == 2 && platform != .tdx) { operation = 0 }
                switch operation {
                case 0:
                    let count = min(rng.next() % 24 + 1, pages - frame)
                    let range = GPARange(start: gpa, end: gpa + count << 12)
                    let target: PageState = rng.chance(1, in: 2) ? .private : .shared
                    let acceptance = PageStateMap.flippedAcceptance(to: target, on: platform)
                    let change = map.set(range, to: target, flippedAcceptance: acceptance)
                    var flipped: [UInt64] = [], unchanged: [UInt64] = []
                    for page in frame..<frame + count {
                        if reference[Int(page)].state == target {
                            unchanged.append(page)
                        } else {
                            flipped.append(page)
                            reference[Int(page)] = Page(state: target, acceptance: acceptance)
                        }
                    }
                    XCTAssertEqual(change.flipped.flatMap(frames), flipped, context)
                    XCTAssertEqual(change.unchanged.flatMap(frames), unchanged, context)
                case 1:
                    let validate = UInt32(rng.next() % 2), size: UInt32 = rng.chance(1, in: 8) ? 1 : 0
                    let answer = map.pvalidate(gpa: gpa, pageSize: size, validate: validate, ram: ram)
                    let expected: PageStateMap.PValidateResult
                    if size == 1 {
                        expected = gpa % (2 << 20) != 0 ? .failInput : .sizeMismatch
                    } else if reference[Int(frame)].state == .shared {
                        expected = .hypervisorOwned(GPARange(start: gpa, end: gpa + 0x1000))
                    } else if (reference[Int(frame)].acceptance == .accepted) == (validate == 1) {
                        expected = .noUpdate
                    } else {
                        expected = .success
                        reference[Int(frame)].acceptance = validate == 1 ? .accepted : .pending
                    }
                    XCTAssertEqual(answer, expected, context)
                case 2:
                    let level: UInt64 = rng.chance(1, in: 8) ? 1 : 0
                    let answer = map.accept(rcx: gpa | level, sharedBit: Self.sharedBit, ram: ram)
                    let expected: PageStateMap.AcceptResult
                    if level == 1 && gpa % (2 << 20) != 0 {
                        expected = .operandInvalid
                    } else if reference[Int(frame)].state == .shared {
                        expected = .notPrivate(GPARange(start: gpa, end: gpa + 0x1000))
                    } else if level == 1 {
                        expected = .sizeMismatch(level: 1)
                    } else if reference[Int(frame)].acceptance == .accepted {
                        expected = .alreadyAccepted(level: 0)
                    } else {
                        expected = .accepted(GPARange(start: gpa, end: gpa + 0x1000))
                        reference[Int(frame)].acceptance = .accepted
                    }
                    XCTAssertEqual(answer, expected, context)
                default:
                    let privateView = rng.chance(1, in: 2), isWrite = rng.chance(1, in: 2)
                    let page = reference[Int(frame)]
                    let expected: PageStateMap.AccessOutcome =
                        switch (page.state, privateView) {
                        case (.shared, false): .allowed
                        case (.private, true): page.acceptance == .pending && platform != .kvm ? .notAccepted : .allowed
                        case (.shared, true): .implicitConversion(GPARange(start: gpa, end: gpa + 0x1000), to: .private)
                        case (.private, false) where platform == .sevSNP && !isWrite: .ciphertextRead
                        case (.private, false): .implicitConversion(GPARange(start: gpa, end: gpa + 0x1000), to: .shared)
                        }
                    XCTAssertEqual(map.access(gpa: gpa | 0x18, privateView: privateView, isWrite: isWrite, platform: platform), expected, context)
                }
            }
            // The cluster's pages after every sequence, every page and the runs' coalescing
            // (no two neighbours with equal pages) after every 64th.
            for frame in 500..<524 where map.page(at: UInt64(frame) << 12) != reference[frame] {
                return XCTFail(
                    "seed \(hex(seed)) sequence \(sequence): page \(frame) is \(String(describing: map.page(at: UInt64(frame) << 12))), reference \(reference[frame])"
                )
            }
            guard sequence % 64 == 0 else { continue }
            var expanded: [Page] = []
            for run in map.runs { expanded += Array(repeating: run.page, count: Int(run.range.pageCount)) }
            if let first = reference.indices.first(where: { $0 >= expanded.count || expanded[$0] != reference[$0] }) {
                return XCTFail("seed \(hex(seed)) sequence \(sequence): page \(first) differs from the reference \(reference[first])")
            }
            XCTAssertFalse(zip(map.runs, map.runs.dropFirst()).contains { $0.page == $1.page }, "uncoalesced runs, sequence \(sequence)")
        }
    }

    /// 4096 scattered single-page conversions leave 8192 runs; the last request must cost
    /// about what the first did (O(log n), not O(n)). Judged by operation counts, not time:
    /// the map's size stays bounded by the runs it holds and each request touches O(1) runs.
    func testScatteredConversionsStayLogarithmic() {
        var map = PageStateMap()
        map.set(GPARange(start: 0, end: 1 << 30), to: .private)
        for index in 0..<4096 as Range<UInt64> {
            map.set(GPARange(start: index * 0x4_0000, end: index * 0x4_0000 + 0x1000), to: .shared)
        }
        XCTAssertEqual(map.runs.count, 8192)
        XCTAssertEqual(map.runCount, 8193, "one boundary per run plus the end")
        XCTAssertEqual(map.change(setting: GPARange(start: 0x3FFC_0000, end: 0x3FFC_1000), to: .private).flipped.count, 1)
    }

    private func frames(_ range: GPARange) -> [UInt64] { Array(range.firstFrame..<UInt64(range.endFrame)) }
}

private enum AcceptResultProbe {
    static func rax(of result: PageStateMap.AcceptResult) -> UInt64? { result.rax }
}
