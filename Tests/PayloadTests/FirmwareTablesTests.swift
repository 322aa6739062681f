import GuestPhysical
import XCTest

@testable import Payload

/// Our footer area, generated from a population plan and read back by the parsers, with every
/// value derived from the plan and the layout in docs/image-format.md.
final class FirmwareTablesTests: XCTestCase {
    private let romBase: UInt64 = 0xFFE0_0000
    private let romSize: UInt64 = 0x20_0000

    private func plan() -> PopulationPlan {
        PopulationPlan(ranges: [
            PlanRange(name: "image", range: GPARange(start: 0xFFE0_0000, end: 0xFFE0_4000), kind: .measured, state: .private),
            PlanRange(name: "payload.unmeasured", range: GPARange(start: 0xFFE0_4000, end: 0xFFE0_6000), kind: .unmeasured, state: .private),
            PlanRange(name: "payload.zero", range: GPARange(start: 0x10_0000, end: 0x10_3000), kind: .zero, state: .private),
            PlanRange(name: "shared", range: GPARange(start: 0x10_3000, end: 0x10_4000), kind: .shared, state: .shared),
            PlanRange(name: "bss", range: GPARange(start: 0x10_4000, end: 0x10_5000), kind: .zero, state: .private),
        ])
    }

    private func rom(with area: [UInt8]) -> [UInt8] {
        var rom = [UInt8](repeating: 0, count: Int(romSize))
        rom.replaceSubrange((Int(romSize) - 0x800)..<(Int(romSize) - 0x20), with: area)
        return rom
    }

    func testAreaIsExactlyTheReservedSize() throws {
        XCTAssertEqual(try FirmwareTables.build(plan: plan(), romBase: romBase, romSize: romSize).count, 0xFFFF_FFE0 - 0xFFFF_F800)
    }

    func testTablesReadBackFromTheROM() throws {
        let image = FirmwareImage(bytes: rom(with: try FirmwareTables.build(plan: plan(), romBase: romBase, romSize: romSize)))
        XCTAssertEqual(image.problems, [])
        let footer = try XCTUnwrap(image.footer)
        XCTAssertEqual(Set(footer.entries.map(\.name)), ["sevMetadataOffset", "tdxMetadataOffset", "sevESResetBlock", "sevHashTableBlock"])
        // The hash table fills the SNP_KERNEL_HASHES page (0x84000), as in OVMF's AmdSev build.
        XCTAssertEqual(image.sevHashTableArea, SEVGuestArea(gpa: 0x8_4000, size: 0x1000))
        XCTAssertEqual(footer.footerOffset + 18, Int(romSize) - 32, "the table ends at 4 GiB - 32")
        XCTAssertEqual(image.sevESResetBlock?.rawValue, 0xFFFF_FFE0, "APs start at .apentry")
        XCTAssertEqual(
            image.sevMetadata?.sections,
            [
                SEVSection(gpa: 0x10_0000, size: 0x3000, type: .snpSecureMemory),
                SEVSection(gpa: 0x10_4000, size: 0x1000, type: .snpSecureMemory),
                SEVSection(gpa: 0x8_2000, size: 0x1000, type: .snpSecrets),
                SEVSection(gpa: 0x8_3000, size: 0x1000, type: .cpuid),
                SEVSection(gpa: 0x8_4000, size: 0x1000, type: .kernelHashes),
            ])
        let sections = try XCTUnwrap(image.tdxMetadata?.sections)
        XCTAssertEqual(
            sections,
            [
                TDXSection(dataOffset: 0, rawSize: 0x4000, memoryAddress: 0xFFE0_0000, memorySize: 0x4000, type: .bfv, attributes: .mrExtend),
                TDXSection(dataOffset: 0x4000, rawSize: 0x2000, memoryAddress: 0xFFE0_4000, memorySize: 0x2000, type: .cfv, attributes: []),
                TDXSection(dataOffset: 0x6000, rawSize: 0x1F_A000, memoryAddress: 0xFFE0_6000, memorySize: 0x1F_A000, type: .bfv, attributes: .mrExtend),
                TDXSection(dataOffset: 0, rawSize: 0, memoryAddress: 0x10_0000, memorySize: 0x3000, type: .tempMem, attributes: []),
                TDXSection(dataOffset: 0, rawSize: 0, memoryAddress: 0x10_4000, memorySize: 0x1000, type: .tempMem, attributes: []),
                TDXSection(dataOffset: 0, rawSize: 0, memoryAddress: 0x8_0000, memorySize: 0x2000, type: .tdHob, attributes: []),
            ])
        // The tables stay inside the reserved area.
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(image.sevMetadata).offset, Int(romSize) - 0x800)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(image.tdxMetadata).offset, Int(romSize) - 0x800)
    }

    func testInstallWritesTheAreaAndRefusesToOverwrite() throws {
        var rom = [UInt8](repeating: 0xCC, count: Int(romSize))
        rom.replaceSubrange((Int(romSize) - 0x800)..<(Int(romSize) - 0x20), with: [UInt8](repeating: 0, count: 0x7E0))
        try FirmwareTables.install(into: &rom, plan: plan())
        XCTAssertEqual(
            rom,
            self.rom(with: try FirmwareTables.build(plan: plan(), romBase: romBase, romSize: romSize)).enumerated().map {
                ($0.offset >= Int(romSize) - 0x800 && $0.offset < Int(romSize) - 0x20) ? $0.element : 0xCC
            })
        XCTAssertThrowsError(try FirmwareTables.install(into: &rom, plan: plan())) {
            guard case .areaNotEmpty? = $0 as? FirmwareTablesError else { return XCTFail("\($0)") }
        }
    }

    func testPlansTheMetadataCannotExpress() {
        let ramBytes = PlanRange(name: "data", range: GPARange(start: 0x10_0000, end: 0x10_1000), kind: .measured, state: .private)
        XCTAssertThrowsError(try FirmwareTables.build(plan: PopulationPlan(ranges: [ramBytes]), romBase: romBase, romSize: romSize)) {
            XCTAssertEqual($0 as? FirmwareTablesError, .ramRangeWithImageBytes(ramBytes))
        }
        let onHob = PlanRange(name: "low", range: GPARange(start: 0x8_1000, end: 0x8_3000), kind: .zero, state: .private)
        XCTAssertThrowsError(try FirmwareTables.build(plan: PopulationPlan(ranges: [onHob]), romBase: romBase, romSize: romSize)) {
            XCTAssertEqual($0 as? FirmwareTablesError, .hobOverlapsPlan(hob: FirmwareTables.defaultTDHob, onHob))
        }
        let onCPUID = PlanRange(name: "low", range: GPARange(start: 0x8_3800, end: 0x8_4000), kind: .zero, state: .private)
        XCTAssertThrowsError(try FirmwareTables.build(plan: PopulationPlan(ranges: [onCPUID]), romBase: romBase, romSize: romSize)) {
            XCTAssertEqual(
                $0 as? FirmwareTablesError,
                .launchPageOverlapsPlan(page: "CPUID", area: GPARange(start: 0x8_3000, end: 0x8_4000), onCPUID))
        }
        XCTAssertThrowsError(try FirmwareTables.build(plan: plan(), romBase: 0xFFD0_0000, romSize: romSize)) {
            XCTAssertEqual($0 as? FirmwareTablesError, .romGeometry(base: 0xFFD0_0000, size: romSize))
        }
        let many = (0..<200).map {
            PlanRange(
                name: "z\($0)", range: GPARange(start: 0x10_0000 + UInt64($0) * 0x2000, end: 0x10_1000 + UInt64($0) * 0x2000),
                kind: .zero, state: .private)
        }
        XCTAssertThrowsError(try FirmwareTables.build(plan: PopulationPlan(ranges: many), romBase: romBase, romSize: romSize)) {
            guard case .tablesTooLarge? = $0 as? FirmwareTablesError else { return XCTFail("\($0)") }
        }
    }
}

/// The guest finds the launch pages at constants of its own; they must be FirmwareTables'.
final class LaunchPageConstantsTests: XCTestCase {
    /// The value of `NAME equ 0x…` in a scenario stub.
    private func constant(_ name: String, in stub: String) throws -> UInt64? {
        let root = try ProjectRoot.locate()
        let source = try String(contentsOfFile: root.path + "/GuestStubs/scenarios/\(stub).asm", encoding: .utf8)
        for line in source.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 3, words[0] == name, words[1] == "equ", words[2].hasPrefix("0x") else { continue }
            return UInt64(words[2].dropFirst(2), radix: 16)
        }
        return nil
    }

    func testSNPLaunchPagesStubUsesTheTablesAddresses() throws {
        XCTAssertEqual(try constant("SNP_SECRETS_GPA", in: "snp-launch-pages"), FirmwareTables.LaunchPages.secrets.start)
        XCTAssertEqual(try constant("SNP_CPUID_GPA", in: "snp-launch-pages"), FirmwareTables.LaunchPages.cpuid.start)
    }

    func testTDHobStubUsesTheTablesAddresses() throws {
        XCTAssertEqual(try constant("TD_HOB_GPA", in: "tdx-td-hob"), FirmwareTables.defaultTDHob.start)
        XCTAssertEqual(try constant("TD_HOB_END", in: "tdx-td-hob"), FirmwareTables.defaultTDHob.end)
        XCTAssertEqual(try constant("ROM_BASE", in: "tdx-td-hob"), Layout.romWindow.start)
    }
}
