import Foundation
import Payload
import XCTest

/// Every bad build input gets one clear line (the CLI turns these into exit code 2).
final class BuildErrorTests: XCTestCase {
    func testAssemblyErrorNamesFileAndLine() throws {
        XCTAssertThrowsError(try BuiltImages.stub("broken", """
            %include "enlighten.inc"
            global main
            section .text
            main:
                mov eax, 0
                not_an_instruction rax, rbx
                ret
            """)) { error in
            guard case BuildError.assembly(let file, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(file.hasSuffix("broken.asm"))
            XCTAssertTrue("\(error)".contains("broken.asm:6:"), "\(error)")
        }
    }

    func testStubWithoutMainIsRefusedByName() throws {
        XCTAssertThrowsError(try BuiltImages.stub("nomain", """
            %include "enlighten.inc"
            section .text
            start:
                ret
            """)) { error in
            XCTAssertEqual(error as? BuildError, .noMain(stub: "nomain"))
            XCTAssertEqual("\(error)", "stub 'nomain' defines no global `main` (the runtime calls it; see docs/writing-stubs.md)")
        }
    }

    /// Eight sites may be labelled (each run arms only its platform's four); nine may not.
    func testMoreThanEightRequestSitesAreRefused() throws {
        let sites = (1...9).map { "global __enlighten_site_\($0)\n__enlighten_site_\($0): vmcall" }.joined(separator: "\n")
        XCTAssertThrowsError(try BuiltImages.stub("sites", """
            %include "enlighten.inc"
            global main
            section .text
            main:
                ret
            \(sites)
            """)) { error in
            guard case BuildError.image(_, .tooManySites(let names)) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(names.count, 9)
            XCTAssertTrue("\(error)".contains("at most 8"), "\(error)")
        }
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
