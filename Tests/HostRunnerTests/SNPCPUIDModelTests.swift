import GuestPhysical
import KVM
import XCTest

@testable import HostRunner

/// The CPUID an SEV-SNP guest gets (`SNPCPUIDModel`, docs/cpuid.md) on the lists of several
/// hosts (`CPUIDFixtures`), and what the other platforms get.
final class SNPCPUIDModelTests: XCTestCase {
    private typealias Key = SNPCPUIDModel.Key

    private let hosts: [(name: String, supported: [CPUIDEntry])] = [
        ("AMD EPYC, kvm_pvm (recorded)", CPUIDFixtures.amdEPYCPVM),
        ("AMD EPYC, basic leaves to 0x1C (derived)", CPUIDFixtures.amdEPYCWideBasic),
        ("Intel Xeon D-1718T (derived from a public dump)", CPUIDFixtures.intelIceLakeD),
        ("small host (derived)", CPUIDFixtures.small),
        ("every leaf in use (synthetic)", CPUIDModelStress.entries(components: 62)),
    ]

    private func snp(_ supported: [CPUIDEntry], vcpu: Int = 0) -> [CPUIDEntry] {
        CPUIDTable.forVCPU(vcpu, supported: supported, platform: .sevSNP, physicalAddressBits: SEVSNPPlatform.physicalAddressBits)
    }

    private func keys(_ entries: [CPUIDEntry]) -> [Key] { entries.map(Key.init) }

    private func entry(_ entries: [CPUIDEntry], _ function: UInt32, _ index: UInt32 = 0) -> CPUIDEntry? {
        entries.first { $0.function == function && $0.index == index }
    }

    private func isZero(_ entry: CPUIDEntry) -> Bool { (entry.eax | entry.ebx | entry.ecx | entry.edx) == 0 }

    /// What every SNP list must be, on every host: at most 64 entries, the required leaves, no
    /// entry twice, in leaf order, every leaf inside the ranges its own leaf 0 / 0x40000000 /
    /// 0x80000000 announce (a leaf in range but absent reads zero to KVM and to the guest
    /// alike), the basic maximum at most 0xD, the extended one in 0x8000001F...0x80000022 and
    /// not beyond the host's; no all-zero entry but the required ones and 0xB/0x1F.
    func testEveryHostsSNPListFitsThePageAndIsSelfConsistent() throws {
        for (name, supported) in hosts {
            let list = snp(supported)
            XCTAssertLessThanOrEqual(list.count, SNPCPUIDPage.countMax, name)
            XCTAssertTrue(
                SNPCPUIDModel.required.isSubset(of: Set(keys(list))),
                "\(name): missing \(SNPCPUIDModel.required.subtracting(keys(list)).map { hex($0.function) + ".\($0.index)" })")
            XCTAssertEqual(Set(keys(list)).count, list.count, "\(name): an entry twice")
            XCTAssertEqual(keys(list), keys(list).sorted(), "\(name): not in leaf order")

            let basic = list.filter { $0.function < 0x4000_0000 }.map(\.function)
            let hypervisor = list.filter { (0x4000_0000...0x4FFF_FFFF).contains($0.function) }.map(\.function)
            let extended = list.filter { $0.function >= 0x8000_0000 }.map(\.function)
            let leaf0 = try XCTUnwrap(entry(list, 0), name)
            let leaf80 = try XCTUnwrap(entry(list, 0x8000_0000), name)
            XCTAssertTrue(basic.allSatisfy { $0 <= leaf0.eax }, "\(name): a basic leaf above leaf 0 EAX")
            XCTAssertLessThanOrEqual(leaf0.eax, 0xD, name)
            XCTAssertTrue(extended.allSatisfy { $0 <= leaf80.eax }, "\(name): an extended leaf above 0x80000000 EAX")
            XCTAssertTrue((0x8000_001F...0x8000_0022).contains(leaf80.eax), "\(name): extended maximum \(hex(leaf80.eax))")
            XCTAssertLessThanOrEqual(
                leaf80.eax, max(supported.first { $0.function == 0x8000_0000 }?.eax ?? 0, 0x8000_001F),
                "\(name): the extended range beyond the host's")
            if let top = entry(list, 0x4000_0000) { XCTAssertTrue(hypervisor.allSatisfy { $0 <= top.eax }, name) }
            XCTAssertTrue(list.allSatisfy { $0.function < 0x4000_0000 || $0.function >= 0x8000_0000 || entry(list, 0x4000_0000) != nil }, name)
            XCTAssertTrue(list.allSatisfy { $0.function <= 0x8FFF_FFFF }, "\(name): a leaf beyond the extended range")

            let zeros = list.filter { isZero($0) && !SNPCPUIDModel.required.contains(Key($0)) && $0.function != 0xB && $0.function != 0x1F }
            XCTAssertEqual(keys(zeros), [], "\(name): all-zero entries left in")

            // The platform's own leaves survive the model.
            let sev = try XCTUnwrap(entry(list, CPUIDTable.sevLeaf), name)
            XCTAssertEqual(sev.eax, SEVSNPPlatform.sevFeatures, name)
            XCTAssertEqual(sev.ebx & 0x3F, UInt32(SEVSNPPlatform.cBitPosition), name)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(entry(list, CPUIDTable.addressSizesLeaf), name).eax & 0xFF, SEVSNPPlatform.physicalAddressBits, name)
        }
    }

    /// Every vCPU gets the same leaves (the page holds vCPU 0's), differing only in its APIC ID.
    func testEveryVCPUGetsTheSameLeaves() throws {
        for (name, supported) in hosts {
            let first = snp(supported, vcpu: 0)
            let third = snp(supported, vcpu: 2)
            XCTAssertEqual(keys(first), keys(third), name)
            XCTAssertEqual(try XCTUnwrap(entry(third, 1)).ebx >> 24, 2, name)
            XCTAssertEqual(zip(first, third).filter { $0.0.function != 1 && !equal($0.0, $0.1) }.count, 0, name)
        }
    }

    /// Nothing the host supports inside the model's ranges is lost unless it is all zero (none
    /// of the real hosts needs trimming).
    func testNoNonZeroLeafInRangeIsLostOnRealHosts() {
        for (name, supported) in hosts.dropLast() {
            let list = Set(keys(snp(supported)))
            let leaf0 = supported.first { $0.function == 0 }?.eax ?? 0
            let leaf80 = supported.first { $0.function == 0x8000_0000 }?.eax ?? 0
            let expected = supported.filter { entry in
                !isZero(entry)
                    && (entry.function <= min(leaf0, 0xD)
                        || (0x4000_0000...0x4000_0001).contains(entry.function)
                        || (0x8000_0000...min(max(leaf80, 0x8000_001F), 0x8000_0022)).contains(entry.function))
            }
            XCTAssertEqual(Set(keys(expected)).subtracting(list).map { hex($0.function) + ".\($0.index)" }, [], name)
        }
    }

    /// The recorded host: the exact leaves, 24 of KVM's 56 (35 of which are all zero).
    func testTheRecordedAMDHostsSNPList() {
        let list = snp(CPUIDFixtures.amdEPYCPVM)
        let expected: [Key] = [
            Key(0), Key(1), Key(6), Key(7), Key(0xB), Key(0xD, 0), Key(0xD, 1), Key(0xD, 2),
            Key(0x4000_0000), Key(0x4000_0001),
            Key(0x8000_0000), Key(0x8000_0001), Key(0x8000_0005), Key(0x8000_0006), Key(0x8000_0007), Key(0x8000_0008),
            Key(0x8000_0019), Key(0x8000_001A), Key(0x8000_001D, 0), Key(0x8000_001D, 1), Key(0x8000_001D, 2), Key(0x8000_001D, 3),
            Key(0x8000_001F), Key(0x8000_0021),
        ]
        XCTAssertEqual(keys(list), expected)
        XCTAssertEqual(entry(list, 0)?.eax, 0xD)
        XCTAssertEqual(entry(list, 0x8000_0000)?.eax, 0x8000_0021)
    }

    /// The 75-entry host's failure ("the vCPU's CPUID has 75 entries; the SNP CPUID page holds
    /// at most 64"): the list passed through is too big for the page; the model's list fits and
    /// is the one the smaller AMD host gets, because everything beyond leaf 0xD is zero.
    func testTheWideAMDHostNoLongerOverflowsThePage() throws {
        let passedThrough = CPUIDTable.forVCPU(0, supported: CPUIDFixtures.amdEPYCWideBasic, platform: .kvm)
        XCTAssertGreaterThan(passedThrough.count, SNPCPUIDPage.countMax)
        XCTAssertThrowsError(try SNPCPUIDPage.page(passedThrough))
        let wide = snp(CPUIDFixtures.amdEPYCWideBasic)
        let narrow = snp(CPUIDFixtures.amdEPYCPVM)
        XCTAssertEqual(keys(wide), keys(narrow))
        XCTAssertTrue(zip(wide, narrow).allSatisfy(equal))
        XCTAssertNoThrow(try SNPCPUIDPage.page(wide))
    }

    /// The Intel host: basic leaves capped at 0xD (the dump's maximum is 0x1B), the extended
    /// range raised from 0x80000008 to the SEV leaf.
    func testTheIntelHostsSNPList() {
        let list = snp(CPUIDFixtures.intelIceLakeD)
        XCTAssertEqual(entry(list, 0)?.eax, 0xD)
        XCTAssertEqual(entry(list, 0x8000_0000)?.eax, 0x8000_001F)
        XCTAssertEqual(list.filter { $0.function == 0xD }.map(\.index), [0, 1, 2, 5, 6, 7])
        XCTAssertEqual(list.filter { $0.function == 4 }.map(\.index), [0, 1, 2, 3], "the all-zero terminator reads zero anyway")
        XCTAssertNil(entry(list, 0x14), "above the model's basic maximum")
        XCTAssertEqual(list.count, 29)
    }

    /// The small host: nothing to cap, the SEV leaf added and reached.
    func testTheSmallHostsSNPList() {
        XCTAssertEqual(CPUIDFixtures.small.count, 20)
        let list = snp(CPUIDFixtures.small)
        XCTAssertEqual(
            keys(list),
            [
                Key(0), Key(1), Key(6), Key(7), Key(0xD, 0), Key(0xD, 1), Key(0xD, 2),
                Key(0x8000_0000), Key(0x8000_0001), Key(0x8000_0005), Key(0x8000_0006), Key(0x8000_0007),
                Key(0x8000_0008), Key(0x8000_001F),
            ])
        XCTAssertEqual(entry(list, 0x8000_0000)?.eax, 0x8000_001F)
    }

    /// Extended leaves beyond EPYC-Genoa's 0x80000022 are not part of the model, even where
    /// the host has them and the list would fit.
    func testExtendedLeavesBeyondGenoasAreLeftOut() {
        var supported = CPUIDFixtures.amdEPYCPVM
        supported[supported.firstIndex { $0.function == 0x8000_0000 }!].eax = 0x8000_0026
        supported += [
            CPUIDFixtures.e(0x8000_0022, 0, 0, 0x0000_0003, 0x0000_1006, 0, 0),
            CPUIDFixtures.e(0x8000_0026, 0, 0, 0x0000_0001, 0x0000_0002, 0x0000_0100, 0),
        ]
        let list = snp(supported)
        XCTAssertEqual(entry(list, 0x8000_0000)?.eax, 0x8000_0022)
        XCTAssertNotNil(entry(list, 0x8000_0022))
        XCTAssertNil(entry(list, 0x8000_0026))
    }

    /// The page encodes exactly the list: count, then each entry's leaf, subleaf and registers
    /// in order (EBX of 0xD.0/0xD.1 as QEMU writes it, with XCR0_IN 1).
    func testThePageHoldsExactlyTheList() throws {
        for (name, supported) in hosts {
            let list = snp(supported)
            let page = try SNPCPUIDPage.page(list)
            XCTAssertEqual(CPUIDPageReader.entries(page).count, list.count, name)
            for (decoded, entry) in zip(CPUIDPageReader.entries(page), list) {
                let xsaveBase = entry.function == 0xD && entry.index <= 1
                XCTAssertEqual(
                    [decoded.function, decoded.index, decoded.eax, decoded.ebx, decoded.ecx, decoded.edx],
                    [entry.function, entry.index, entry.eax, xsaveBase ? 0x240 : entry.ebx, entry.ecx, entry.edx],
                    "\(name) \(hex(entry.function)).\(entry.index)")
                XCTAssertEqual(decoded.xcr0, xsaveBase ? 1 : 0, name)
            }
        }
    }

    /// Over the page on any host: whole leaves go in the documented order — extended leaves
    /// above the SEV leaf first (lowering 0x80000000.EAX), then other extended leaves from the
    /// top — and the same input in any order gives the same list.
    func testTrimmingLowersTheExtendedMaximumFirst() throws {
        let supported = CPUIDModelStress.entries(components: 11)
        let list = snp(supported)
        XCTAssertEqual(list.count, SNPCPUIDPage.countMax)
        XCTAssertEqual(entry(list, 0x8000_0000)?.eax, 0x8000_001F)
        XCTAssertNil(entry(list, 0x8000_0020))
        XCTAssertNil(entry(list, 0x8000_0017), "extended leaves below the SEV leaf go from the top")
        XCTAssertNotNil(entry(list, 0x8000_0016))
        XCTAssertEqual(list.filter { $0.function == 0xD }.count, 13, "no XSAVE component had to go")
        XCTAssertEqual(list.filter { $0.function == 4 }.count, 8, "basic leaves stay while extended ones can go")
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<5 {
            let shuffled = snp(supported.shuffled(using: &generator))
            XCTAssertEqual(keys(shuffled), keys(list))
            XCTAssertTrue(zip(shuffled, list).allSatisfy(equal))
        }
    }

    /// The last resort: with 62 XSAVE components nothing else is left to drop, so the highest
    /// components go, each leaving 0xD.0's and 0xD.1's masks, and the required leaves stay.
    func testTrimmingWithdrawsXSAVEComponentsLast() throws {
        let list = snp(CPUIDModelStress.entries(components: 62))
        XCTAssertEqual(list.count, SNPCPUIDPage.countMax)
        XCTAssertEqual(
            Set(keys(list)).subtracting(SNPCPUIDModel.required).map(\.function).allSatisfy { $0 == 0xD }, true,
            "only XSAVE components besides the required leaves")
        let components = list.filter { $0.function == 0xD && $0.index >= 2 }.map(\.index)
        XCTAssertEqual(components, Array(2...56))
        let xcr0 = try XCTUnwrap(entry(list, 0xD, 0))
        let xss = try XCTUnwrap(entry(list, 0xD, 1))
        XCTAssertEqual(xcr0.eax, 0xFFFF_FFFF)
        XCTAssertEqual(xcr0.edx, 0x01FF_FFFF, "components 57...63 (EDX bits 25...31) withdrawn")
        XCTAssertEqual(xss.edx, 0x01FF_FFFF)
        XCTAssertEqual(entry(list, 0)?.eax, 0xD)
        XCTAssertEqual(entry(list, 0x8000_0000)?.eax, 0x8000_001F)
    }

    /// KVM, TDX and no platform keep every leaf KVM supports (a TD's CPUID: docs/cpuid.md).
    func testOtherPlatformsPassEveryLeafThrough() {
        for (name, supported) in hosts.dropLast() {
            for platform in [ConversionPlatform.kvm, .tdx, nil] {
                let list = CPUIDTable.forVCPU(
                    0, supported: supported, platform: platform,
                    physicalAddressBits: platform == .tdx ? 48 : nil)
                XCTAssertTrue(Set(keys(supported)).isSubset(of: Set(keys(list))), "\(name) \(String(describing: platform))")
            }
            let td = CPUIDTable.forVCPU(0, supported: supported, platform: .tdx, physicalAddressBits: 48)
            XCTAssertEqual(td.count, Set(keys(supported)).union([Key(TDXPlatform.identityLeaf), Key(CPUIDTable.addressSizesLeaf)]).count, name)
            XCTAssertGreaterThanOrEqual(entry(td, 0)?.eax ?? 0, TDXPlatform.identityLeaf, name)
        }
    }

    /// On this host's KVM: every leaf the model leaves out for being zero reads zero in a vCPU
    /// given the model's list (so the page, where such a leaf reads zero to Linux's `snp_cpuid`,
    /// and the vCPU agree), and the page made from what the vCPU returns holds the same leaves.
    func testLeavesLeftOutReadZeroInTheVCPU() throws {
        try requireKVM()
        let system = try KVMSystem()
        let supported = try system.supportedCPUID()
        let list = snp(supported)
        let given = Set(keys(list))
        let leaf0 = list.first { $0.function == 0 }?.eax ?? 0
        let leaf80 = list.first { $0.function == 0x8000_0000 }?.eax ?? 0
        let leftOut = supported.filter { entry in
            !given.contains(Key(entry)) && isZero(entry)
                && (entry.function <= leaf0 || (entry.function >= 0x8000_0000 && entry.function <= leaf80))
        }
        let answers = try ObservedCPUID.observe(system: system, entries: list, probes: leftOut)
        XCTAssertEqual(answers.filter { !isZero($0) }.map { hex($0.function) + ".\($0.index)" }, [])

        let seen = try ObservedCPUID.observe(system: system, entries: list)
        XCTAssertEqual(keys(seen), keys(list))
        let page = try SNPCPUIDPage.page(seen)
        XCTAssertEqual(CPUIDPageReader.entries(page).map { Key($0.function, $0.index) }, keys(list))
        print("KVM_GET_SUPPORTED_CPUID here: \(supported.count) entries; SNP list: \(list.count); zero leaves probed: \(leftOut.count)")
    }

    private func equal(_ a: CPUIDEntry, _ b: CPUIDEntry) -> Bool {
        (a.function, a.index, a.eax, a.ebx, a.ecx, a.edx) == (b.function, b.index, b.eax, b.ebx, b.ecx, b.edx)
    }
}

/// The SNP CPUID page read back as Linux's `struct snp_cpuid_table` lays it out.
enum CPUIDPageReader {
    struct Entry {
        var function, index, eax, ebx, ecx, edx: UInt32
        var xcr0: UInt64
    }

    static func entries(_ page: [UInt8]) -> [Entry] {
        func dword(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(page[at + $1]) << (8 * $1) } }
        func qword(_ at: Int) -> UInt64 { UInt64(dword(at)) | UInt64(dword(at + 4)) << 32 }
        return (0..<Int(dword(0))).map { i in
            let at = SNPCPUIDPage.headerSize + i * SNPCPUIDPage.entrySize
            return Entry(
                function: dword(at), index: dword(at + 4), eax: dword(at + 24), ebx: dword(at + 28),
                ecx: dword(at + 32), edx: dword(at + 36), xcr0: qword(at + 8))
        }
    }
}

/// A synthetic host on which every leaf the model could keep is in use: basic leaves to 0xD
/// (leaf 4 with 8 caches, leaf 7 with subleaves 0-2, 0xB with 4 levels), `components` XSAVE
/// components from 2 up, KVM's two leaves, extended leaves to 0x80000026 (0x8000001D with 6
/// caches), all non-zero.
enum CPUIDModelStress {
    static func entries(components: UInt32) -> [CPUIDEntry] {
        let e = CPUIDFixtures.e
        let flag = CPUIDFixtures.significantIndex
        var entries = [e(0, 0, 0, 0xD, 0x6874_7541, 0x444D_4163, 0x6974_6E65)]
        for function in UInt32(1)...0xC {
            switch function {
            case 4: entries += (0..<8).map { e(4, $0, flag, 0x121 + $0, 1, 1, 0) }
            case 7: entries += (0..<3).map { e(7, $0, flag, $0 == 0 ? 2 : 1, 1, 1, 1) }
            case 0xB: entries += (0..<4).map { e(0xB, $0, flag, 1, 1, $0 << 8 | $0, 0) }
            default: entries.append(e(function, 0, 0, function, 1, 1, 1))
            }
        }
        entries.append(e(0xD, 0, flag, 0xFFFF_FFFF, 0x340, 0x340, 0xFFFF_FFFF))
        entries.append(e(0xD, 1, flag, 0xF, 0x340, 0xFFFF_FFFF, 0xFFFF_FFFF))
        entries += (0..<components).map { e(0xD, 2 + $0, flag, 0x100, 0x240 + $0, 0, 0) }
        entries.append(e(0x4000_0000, 0, 0, 0x4000_0001, 0x4B4D_564B, 0x564B_4D56, 0x4D))
        entries.append(e(0x4000_0001, 0, 0, 0x0100_7EFB, 0, 0, 0))
        entries.append(e(0x8000_0000, 0, 0, 0x8000_0026, 0x6874_7541, 0x444D_4163, 0x6974_6E65))
        for function in UInt32(0x8000_0001)...0x8000_0026 {
            if function == 0x8000_001D {
                entries += (0..<6).map { e(function, $0, flag, 0x121 + $0, 1, 1, 0) }
            } else {
                entries.append(e(function, 0, 0, function, 1, 1, 1))
            }
        }
        return entries
    }
}

/// A deterministic shuffle source (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
