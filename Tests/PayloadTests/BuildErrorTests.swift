import Foundation
import Payload
import XCTest

/// Every bad build input gets one clear line (the CLI turns these into exit code 2).
final class BuildErrorTests: XCTestCase {
    func testAssemblyErrorNamesFileAndLine() throws {
        XCTAssertThrowsError(
            try BuiltImages.stub(
                "broken",
                """
                %include "enlighten.inc"
                global main
                section .text
                main:
                    mov eax, 0
                    not_an_instruction rax, rbx
                    ret
                """)
        ) { error in
            guard case BuildError.assembly(let file, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(file.hasSuffix("broken.asm"))
            XCTAssertTrue("\(error)".contains("broken.asm:6:"), "\(error)")
        }
    }

    func testStubWithoutMainIsRefusedByName() throws {
        XCTAssertThrowsError(
            try BuiltImages.stub(
                "nomain",
                """
                %include "enlighten.inc"
                section .text
                start:
                    ret
                """)
        ) { error in
            XCTAssertEqual(error as? BuildError, .noMain(stub: "nomain"))
            XCTAssertEqual("\(error)", "stub 'nomain' defines no global `main` (the runtime calls it; see docs/writing-stubs.md)")
        }
    }

    /// A run arms one interface's sites, at most four (DR0-DR3): a fifth site of one interface
    /// is refused when the stub is built, naming the stub and every site, as the run would.
    /// (Eight were accepted before, and the run refused them only after building the VM.)
    func testMoreThanFourSitesOfOneInterfaceAreRefusedAtBuildTime() throws {
        XCTAssertThrowsError(try BuiltImages.stub("sites", Self.stub([("vmcall", "vmcall", 5)]))) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("stub 'sites': the image has 5 kvm request sites ("), message)
            for index in 0..<5 { XCTAssertTrue(message.contains("__enlighten_site_vmcall_\(index)"), message) }
            XCTAssertTrue(message.contains("at most 4 per interface"), message)
            XCTAssertFalse(message.contains("\n"))
        }
        // vmcall and vmmcall are both KVM_HC_MAP_GPA_RANGE: one interface, one limit; VMGEXIT
        // and PVALIDATE are both SEV-SNP's, and the runtime's own VMGEXIT (its reports go
        // through the GHCB on SEV-SNP, GuestStubs/runtime/portio.asm) counts with them.
        XCTAssertThrowsError(try BuiltImages.stub("mixed", Self.stub([("vmcall", "vmcall", 3), ("vmmcall", "vmmcall", 2)]))) { error in
            XCTAssertTrue("\(error)".contains("5 kvm request sites"), "\(error)")
        }
        XCTAssertThrowsError(try BuiltImages.stub("snp", Self.stub([("vmgexit", Self.vmgexit, 2), ("pvalidate", Self.pvalidate, 2)]))) { error in
            XCTAssertTrue("\(error)".contains("5 ghcb request sites"), "\(error)")
            XCTAssertTrue("\(error)".contains("__enlighten_site_ghcb_vmgexit"), "\(error)")
        }
    }

    /// Four of each interface is what a firmware image may carry: each run arms only its own.
    /// One GHCB and one TDX site are the runtime's (its reports speak those protocols), so a
    /// stub has three of its own there.
    func testFourSitesOfEachInterfaceAreAccepted() throws {
        let image = try BuiltImages.stub(
            "every",
            Self.stub([
                ("vmcall", "vmcall", 2), ("vmmcall", "vmmcall", 2),
                ("vmgexit", Self.vmgexit, 3), ("tdcall", Self.tdcall, 3),
            ]))
        XCTAssertEqual(image.sites.count, 12)
    }

    /// A site on an instruction that issues no request is refused at build time, naming the
    /// site and the bytes found (the run refused it too, but only once the VM was built).
    func testSiteOnAnythingButARequestIsRefusedAtBuildTime() throws {
        XCTAssertThrowsError(try BuiltImages.stub("nop", Self.stub([("nop", "nop", 1)]))) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("stub 'nop': request site __enlighten_site_nop_0 at 0x"), message)
            XCTAssertTrue(message.contains("holds 90 "), message)
        }
    }

    private static let vmgexit = "rep vmmcall"
    private static let tdcall = "db 0x66, 0x0F, 0x01, 0xCC"
    private static let pvalidate = "db 0xF2, 0x0F, 0x01, 0xFF"

    /// A stub whose `main` returns, labelling `count` sites `__enlighten_site_LABEL_i` on
    /// `instruction` for each entry.
    private static func stub(_ sites: [(label: String, instruction: String, count: Int)]) -> String {
        let labelled = sites.flatMap { site in
            (0..<site.count).map { "global __enlighten_site_\(site.label)_\($0)\n__enlighten_site_\(site.label)_\($0): \(site.instruction)" }
        }
        return mainReturning + labelled.joined(separator: "\n")
    }

    /// 10^5 PLAN_RANGEs: nasm spends about 0.1 ms on each, so the build took 17.7 s before
    /// failing (in the firmware layout) with a message that named no stub. Now assembly stops
    /// at the first entry past the limit, naming the file and line, in both layouts.
    func testAHundredThousandPlanRangesStopAssemblyAtOnceNamingTheStub() throws {
        let ranges = (0..<100_000).map { Self.planRange(0x40_0000 + UInt64($0) * 0x2000) }
        for layout in Layout.allCases {
            let started = ContinuousClock.now
            XCTAssertThrowsError(try BuiltImages.stub("many", Self.mainReturning + ranges.joined(separator: "\n"), layout: layout)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains("many.asm:"), message)
                XCTAssertTrue(message.contains("more than 1024 plan entries"), message)
            }
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            XCTAssertLessThan(seconds, 5, "\(layout): the limit stops nasm early, not after every entry")
        }
    }

    /// The limit is the image's, the runtime's entries included: two files under it each can
    /// still make too many together, refused by the builder naming the stub.
    func testPlanEntriesAreCountedPerImage() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-test-\(UUID().uuidString)/pair")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        try (Self.mainReturning + (0..<600).map { Self.planRange(0x40_0000 + UInt64($0) * 0x2000) }.joined(separator: "\n"))
            .write(to: folder.appendingPathComponent("a.asm"), atomically: true, encoding: .utf8)
        try ("%include \"enlighten.inc\"\n" + (0..<600).map { Self.planRange(0x1000_0000 + UInt64($0) * 0x2000) }.joined(separator: "\n"))
            .write(to: folder.appendingPathComponent("b.asm"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BuiltImages.builder().build(try StubSource.resolve(folder.path, root: BuiltImages.root), layout: .direct64)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("stub 'pair': the plan has "), message)
            XCTAssertTrue(message.contains("more than the 1024 an image may have"), message)
        }
    }

    /// More private zero RAM ranges than the firmware footer's SEV and TDX tables hold: the
    /// error names the stub and the layout (it named neither).
    func testPlanTooBigForTheFirmwareTablesNamesTheStub() throws {
        let ranges = (0..<64).map { Self.planRange(0x40_0000 + UInt64($0) * 0x2000) }
        XCTAssertNoThrow(try BuiltImages.stub("zeros", Self.mainReturning + ranges.joined(separator: "\n"), layout: .direct64))
        XCTAssertThrowsError(try BuiltImages.stub("zeros", Self.mainReturning + ranges.joined(separator: "\n"), layout: .firmware)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("stub 'zeros' (firmware layout): the plan does not fit the firmware tables: "), message)
            XCTAssertTrue(message.contains("the reserved area holds 2016"), message)
        }
    }

    private static let mainReturning = """
        %include "enlighten.inc"
        global main
        section .text
        main:
            xor eax, eax
            ret

        """

    /// One private zero page at `start`.
    private static func planRange(_ start: UInt64) -> String {
        "PLAN_RANGE 0x\(String(start, radix: 16)), 0x\(String(start + 0x1000, radix: 16)), PLAN_ZERO, PLAN_PRIVATE, \"z\""
    }

    func testUnknownStubListsTheScenarios() throws {
        XCTAssertThrowsError(try StubSource.resolve("no-such-scenario", root: BuiltImages.root)) { error in
            XCTAssertTrue("\(error)".hasPrefix("unknown stub 'no-such-scenario': not a scenario (known: "), "\(error)")
            XCTAssertTrue("\(error)".contains("hello"), "\(error)")
        }
        XCTAssertThrowsError(try StubSource.resolve("missing/dir/stub.asm", root: BuiltImages.root)) { error in
            XCTAssertEqual("\(error)", "unknown stub 'missing/dir/stub.asm': no such file or folder")
        }
    }

    func testUnwritableOutputFolderIsOneLine() throws {
        let image = try BuiltImages.hello()
        // A path below a regular file can never be created.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-file-\(UUID().uuidString)")
        try Data().write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try ImageWriter(directory: file.path + "/out").write(image)) { error in
            guard case BuildError.output(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, file.path + "/out")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }

    func testMissingToolIsNamedWithHowToInstall() {
        XCTAssertThrowsError(try Toolchain.locate(environment: ["PATH": "/nonexistent"])) { error in
            XCTAssertEqual("\(error)", "nasm not found: install it with `apt-get install nasm` (or set ENLIGHTEN_NASM)")
        }
        XCTAssertThrowsError(try Toolchain.locate(environment: ["PATH": "/nonexistent", "ENLIGHTEN_NASM": "/usr/bin/nasm"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("ld.lld not found: "), "\(error)")
        }
    }

    func testEveryScenarioBuildsInBothLayouts() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-all-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = StubSource.scenarioNames(root: BuiltImages.root)
        XCTAssertTrue(names.contains("hello"))
        let sources = try names.map { try StubSource.resolve($0, root: BuiltImages.root) }
        let built = try BuiltImages.builder().build(sources, layouts: Layout.allCases, writer: ImageWriter(directory: folder.path))
        XCTAssertEqual(built.count, names.count * 2)
        for (image, written) in built {
            XCTAssertTrue(FileManager.default.fileExists(atPath: written.elf))
            XCTAssertTrue(FileManager.default.fileExists(atPath: written.plan))
            if image.layout == .firmware {
                let rom = try XCTUnwrap(written.rom)
                XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: rom)[.size] as? Int, 2 << 20)
            } else {
                XCTAssertNil(written.rom)
            }
            let plan = try JSONDecoder().decode(PlanDocument.self, from: Data(contentsOf: URL(fileURLWithPath: written.plan)))
            XCTAssertEqual(plan, PlanDocument(image))
        }
    }
}
