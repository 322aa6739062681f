import Foundation
import Payload
import XCTest

/// Builds stubs for tests with the real toolchain, once per process.
enum BuiltImages {
    static let root: ProjectRoot = {
        do { return try ProjectRoot.locate() } catch { fatalError("tests need the project root: \(error)") }
    }()

    static func builder() throws -> ImageBuilder {
        try ImageBuilder(toolchain: try Toolchain.locate(), root: root)
    }

    private static let cache = Cache()

    static func hello(_ layout: Layout = .direct64) throws -> Image {
        try cache.image("hello-\(layout.rawValue)") {
            try builder().build(try StubSource.resolve("hello", root: root), layout: layout)
        }
    }

    /// A throw-away stub from source text, built in a temporary folder.
    static func stub(_ name: String, _ source: String, layout: Layout = .direct64) throws -> Image {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("enlighten-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("\(name).asm")
        try source.write(to: file, atomically: true, encoding: .utf8)
        return try builder().build(try StubSource.resolve(file.path, root: root), layout: layout)
    }

    final class Cache: @unchecked Sendable {
        private let lock = NSLock()
        private var images: [String: Image] = [:]

        func image(_ key: String, _ make: () throws -> Image) throws -> Image {
            lock.lock()
            defer { lock.unlock() }
            if let image = images[key] { return image }
            let image = try make()
            images[key] = image
            return image
        }
    }
}
