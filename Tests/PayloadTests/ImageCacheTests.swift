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

    private func build(_ stub: String, _ layout: Layout = .direct64, notices: Notices = Notices()) throws -> (Image, hits: Int, misses: Int) {
        let builder = try ImageBuilder(toolchain: try Toolchain.locate(), root: root, cache: cache, notices: notices.add)
        let image = try builder.build(try StubSource.resolve(stub, root: root), layout: layout)
        XCTAssertEqual(builder.cacheCounts.refused, notices.lines.count, "every refused entry is said")
        return (image, builder.cacheCounts.hits, builder.cacheCounts.misses)
    }

    /// The cache's entry files, by name.
    private func entries() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: cache.directory + "/images"))
    }

    /// Builds `stub` into an empty part of the cache and returns the path of its entry.
    private func entry(of stub: String) throws -> String {
        let before = (try? entries()) ?? []
        _ = try build(stub)
        let added = try entries().subtracting(before)
        XCTAssertEqual(added.count, 1, "\(stub) added one entry: \(added)")
        return cache.directory + "/images/" + (added.first ?? "")
    }

    private func uncached(_ stub: String) throws -> [UInt8] {
        try ImageBuilder(toolchain: try Toolchain.locate(), root: root, cache: nil)
            .build(try StubSource.resolve(stub, root: root), layout: .direct64).elf
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
        for file in [
            "GuestStubs/scenarios/roundtrip.asm", "GuestStubs/scenarios/scenario.inc", "GuestStubs/runtime/entry.asm",
            "GuestStubs/abi/interfaces.inc", "GuestStubs/include/enlighten.inc", "Linker/direct64.ld",
        ] {
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

    /// Issue 20, finding 3: another valid image copied over `hello`'s entry made `build hello`
    /// return the other image. Each entry carries a digest over its key and its ELF, checked
    /// on every hit: a copy, an edit that still parses, or a truncation is refused, said, and
    /// rebuilt; the rebuild replaces the entry, so the next build is a hit again.
    func testAnEntryChangedAfterItWasWrittenIsNeverUsed() throws {
        let hello = try entry(of: "hello")
        let roundtrip = try entry(of: "roundtrip")
        let expected = try uncached("hello")
        let other = try uncached("roundtrip")
        XCTAssertNotEqual(expected, other)

        func poisoned(_ change: () throws -> Void, _ why: String) throws {
            try change()
            let notices = Notices()
            let rebuilt = try build("hello", notices: notices)
            XCTAssertEqual(rebuilt.0.elf, expected, "\(why): the poisoned entry was used")
            XCTAssertEqual([rebuilt.hits, rebuilt.misses], [0, 1], why)
            XCTAssertEqual(notices.lines.count, 1, "\(why): \(notices.lines)")
            XCTAssertTrue(notices.lines.first?.hasPrefix("image cache entry \(hello) for stub 'hello' (direct64) ") ?? false, "\(notices.lines)")
            XCTAssertTrue(notices.lines.first?.hasSuffix(": not used, rebuilding it") ?? false, "\(notices.lines)")
            let again = try build("hello")
            XCTAssertEqual([again.hits, again.misses], [1, 0], "\(why): the rebuild replaced the entry")
            XCTAssertEqual(again.0.elf, expected)
        }
        // Another key's valid entry, copied whole.
        try poisoned(
            {
                try FileManager.default.removeItem(atPath: hello)
                try FileManager.default.copyItem(atPath: roundtrip, toPath: hello)
            }, "roundtrip's entry copied over hello's")
        // An edit in place that leaves a valid ELF: one byte of the image's code changed.
        try poisoned(
            {
                var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: hello)))
                let text = try XCTUnwrap(try ELFFile(bytes: expected).section(named: ".text"))
                let offset = bytes.count - expected.count + Int(text.offset) + 16
                bytes[offset] ^= 0x01
                XCTAssertNoThrow(try Image(name: "hello", elf: Array(bytes[(bytes.count - expected.count)...])), "still a valid image")
                try Data(bytes).write(to: URL(fileURLWithPath: hello))
            }, "a byte of .text changed in place")
        try poisoned(
            {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: hello))
                try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: hello))
            }, "truncated")
    }

    /// Something that is no regular file at an entry's name, here a FIFO with no writer: the
    /// entry is opened without blocking and refused, and the image rebuilt.
    func testAFIFOInPlaceOfAnEntryIsRefusedWithoutBlocking() throws {
        let hello = try entry(of: "hello")
        try FileManager.default.removeItem(atPath: hello)
        XCTAssertEqual(mkfifo(hello, 0o600), 0)
        let done = DispatchSemaphore(value: 0)
        let result = ConcurrentSlots<[UInt8]>(count: 1)
        let root = self.root, cache = self.cache
        Thread.detachNewThread {
            let image = try? ImageBuilder(toolchain: try Toolchain.locate(), root: root, cache: cache, notices: { _ in })
                .build(try StubSource.resolve("hello", root: root), layout: .direct64)
            if let image { result.set(0, image.elf) }
            done.signal()
        }
        guard done.wait(timeout: .now() + 60) == .success else {
            // Unblock the reader so the process can end.
            let writer = open(hello, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
            return XCTFail("the build blocked on the FIFO")
        }
        XCTAssertEqual(result.values.first ?? nil, try uncached("hello"))
    }

    func testEnvironmentChoosesTheFolderOrTurnsItOff() {
        XCTAssertEqual(ImageCache.standard(environment: ["ENLIGHTEN_CACHE_DIR": "/x/y"])?.directory, "/x/y")
        XCTAssertNil(ImageCache.standard(environment: ["ENLIGHTEN_CACHE_DIR": "off", "HOME": "/h"]))
        XCTAssertEqual(ImageCache.standard(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"])?.directory, "/c/enlighten")
        XCTAssertEqual(ImageCache.standard(environment: ["HOME": "/h"])?.directory, "/h/.cache/enlighten")
    }
}

/// Collects a builder's notices.
final class Notices: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []

    var add: @Sendable (String) -> Void {
        { [self] line in
            lock.lock(); collected.append(line); lock.unlock()
        }
    }
    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return collected
    }
}
