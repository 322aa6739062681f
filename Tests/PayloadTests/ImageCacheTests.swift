import Foundation
import Payload
import XCTest

/// The content-addressed image cache: a warm build runs no tool and gives the same bytes, a
/// change to any source the build reads (stub, include beside it, runtime, linker script)
/// is a miss, and builders racing on one key leave one whole entry.
final class ImageCacheTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("image-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for part in ["GuestStubs", "Linker"] {
            try FileManager.default.copyItem(atPath: BuiltImages.root.path + "/" + part, toPath: folder.appendingPathComponent("home/" + part).path)
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private var root: ProjectRoot { ProjectRoot(path: folder.appendingPathComponent("home").path) }
    private var cache: ImageCache { ImageCache(directory: folder.appendingPathComponent("cache").path) }

    private func build(_ stub: String, _ layout: Layout = .direct64) throws -> (Image, hits: Int, misses: Int) {
        let builder = try ImageBuilder(toolchain: try Toolchain.locate(), root: root, cache: cache)
        let image = try builder.build(try StubSource.resolve(stub, root: root), layout: layout)
        return (image, builder.cacheCounts.hits, builder.cacheCounts.misses)
    }

    private func edit(_ file: String, append text: String) throws {
        let url = folder.appendingPathComponent("home/" + file)
        try (try String(contentsOf: url, encoding: .utf8) + text).write(to: url, atomically: true, encoding: .utf8)
    }

    func testSecondBuildIsAHitWithTheSameBytes() throws {
        let cold = try build("roundtrip", .firmware)
        XCTAssertEqual([cold.hits, cold.misses], [0, 1])
        let warm = try build("roundtrip", .firmware)
        XCTAssertEqual([warm.hits, warm.misses], [1, 0])
        XCTAssertEqual(warm.0.elf, cold.0.elf)
        // And the same bytes as a build with no cache at all.
        let uncached = try ImageBuilder(toolchain: try Toolchain.locate(), root: root, cache: nil)
            .build(try StubSource.resolve("roundtrip", root: root), layout: .firmware)
        XCTAssertEqual(uncached.elf, cold.0.elf)
    }

    func testAChangeToAnythingTheBuildReadsIsAMiss() throws {
        _ = try build("roundtrip")
        for file in ["GuestStubs/scenarios/roundtrip.asm", "GuestStubs/scenarios/scenario.inc", "GuestStubs/runtime/entry.asm",
                     "GuestStubs/abi/interfaces.inc", "GuestStubs/include/enlighten.inc", "Linker/direct64.ld"] {
            guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("home/" + file).path) else {
                XCTFail("\(file) is gone: update this test's list")
                continue
            }
            try edit(file, append: file.hasSuffix(".ld") ? "\n/* edited */\n" : "\n; edited\n")
            let after = try build("roundtrip")
            XCTAssertEqual([after.hits, after.misses], [0, 1], "editing \(file) must rebuild")
        }
        // Another layout of an unchanged stub is its own entry.
        XCTAssertEqual(try build("roundtrip", .firmware).misses, 1)
    }

    func testConcurrentBuildersOfOneKeyLeaveOneWholeEntry() throws {
        let images = ConcurrentSlots<[UInt8]>(count: 4)
        let root = self.root, cache = self.cache
        ParallelWork.run(4) { index in
            let image = try? ImageBuilder(toolchain: try Toolchain.locate(), root: root, cache: cache)
                .build(try StubSource.resolve("hello", root: root), layout: .direct64)
            if let image { images.set(index, image.elf) }
        }
        let built = images.values.compactMap { $0 }
        XCTAssertEqual(built.count, 4)
        XCTAssertEqual(Set(built).count, 1)
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache.directory + "/images")
        XCTAssertEqual(entries.count, 1, "no temporary file is left behind: \(entries)")
        XCTAssertEqual(try build("hello").hits, 1)
    }

    func testEnvironmentChoosesTheFolderOrTurnsItOff() {
        XCTAssertEqual(ImageCache.standard(environment: ["ENLIGHTEN_CACHE_DIR": "/x/y"])?.directory, "/x/y")
        XCTAssertNil(ImageCache.standard(environment: ["ENLIGHTEN_CACHE_DIR": "off", "HOME": "/h"]))
        XCTAssertEqual(ImageCache.standard(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"])?.directory, "/c/enlighten")
        XCTAssertEqual(ImageCache.standard(environment: ["HOME": "/h"])?.directory, "/h/.cache/enlighten")
    }
}
