import Crypto
import Foundation

/// Linked images (the final ELF, firmware tables included) by content: the key is a SHA-256
/// over everything that decides the bytes — the tools (path, size, modification time), the
/// builder itself (this executable, likewise: it writes the firmware tables after linking), the
/// layout and its linker script, every source and include the build reads (GuestStubs/include,
/// runtime, abi, the stub's files and the `.inc` files beside them) and the flags. A warm
/// build reads one file instead of running nasm and ld.lld.
///
/// Where: `$ENLIGHTEN_CACHE_DIR`, else `$XDG_CACHE_HOME/enlighten`, else
/// `~/.cache/enlighten`; `ENLIGHTEN_CACHE_DIR=off` turns it off. Entries are written to a
/// temporary name and renamed into place, so concurrent builds never see half a file; two
/// builds of one key both write the same bytes and the last rename wins.
public struct ImageCache: Sendable {
    public let directory: String

    /// Bumped when what a key covers changes, so old entries are never read.
    static let format = "enlighten-image-cache-1"

    public init(directory: String) { self.directory = directory }

    /// The cache the environment asks for, or nil when it is turned off.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ImageCache? {
        if let explicit = environment["ENLIGHTEN_CACHE_DIR"] {
            return explicit == "off" || explicit.isEmpty ? nil : ImageCache(directory: explicit)
        }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return ImageCache(directory: xdg + "/enlighten") }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return ImageCache(directory: home + "/.cache/enlighten")
    }

    func path(_ key: String) -> String { directory + "/images/" + key + ".elf" }

    /// The cached ELF, or nil (absent or unreadable: the caller builds it).
    func load(_ key: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path(key)).map { [UInt8]($0) }
    }

    /// Best effort: a cache that cannot be written only makes the next build cold.
    func store(_ elf: [UInt8], key: String) {
        let final = path(key)
        let folder = (final as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = folder + "/.\(key).\(ProcessInfo.processInfo.processIdentifier).\(UUID().uuidString.prefix(8))"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(elf)) else { return }
        if rename(temporary, final) != 0 { try? FileManager.default.removeItem(atPath: temporary) }
    }

    /// The key of `stub` in `layout`: `shared` (tools, layout, libraries) plus the stub's
    /// own sources and the includes beside them.
    static func key(shared: String, stub: StubSource) -> String {
        var hasher = SHA256()
        hasher.update(data: Data(shared.utf8))
        hasher.update(data: Data(stub.name.utf8))
        var files = stub.files
        let folders = Set(stub.files.map { ($0 as NSString).deletingLastPathComponent })
        for folder in folders.sorted() { files += sourceFiles(in: folder, extensions: ["inc"]) }
        feed(&hasher, files)
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The part of every key of one builder and layout.
    static func sharedKey(toolchain: Toolchain, root: ProjectRoot, layout: Layout, flags: [String]) -> String {
        var hasher = SHA256()
        hasher.update(data: Data((format + "\n" + layout.rawValue + "\n" + flags.joined(separator: " ")).utf8))
        // This executable writes the firmware tables into the linked image, so a rebuilt
        // Enlighten must not read images an older one finished.
        let builder = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        for tool in [toolchain.assembler, toolchain.linker, builder] {
            let attributes = try? FileManager.default.attributesOfItem(atPath: (tool as NSString).resolvingSymlinksInPath)
            let size = (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            hasher.update(data: Data("\(tool) \(size) \(modified)\n".utf8))
        }
        var files = [root.linkerScript(for: layout)]
        for folder in [root.includeDirectory, root.runtimeDirectory, root.interfacesDirectory] {
            files += sourceFiles(in: folder, extensions: ["asm", "inc"])
        }
        feed(&hasher, files)
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    private static func sourceFiles(in folder: String, extensions: Set<String>) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { extensions.contains(($0 as NSString).pathExtension) }.sorted().map { folder + "/" + $0 }
    }

    /// Each file's path and contents, length-prefixed so no two file sets hash alike by
    /// concatenation; a missing file hashes as missing.
    private static func feed(_ hasher: inout SHA256, _ files: [String]) {
        for file in files {
            let contents = FileManager.default.contents(atPath: file)
            hasher.update(data: Data("\(file)\n\(contents.map { String($0.count) } ?? "missing")\n".utf8))
            if let contents { hasher.update(data: contents) }
        }
    }
}
