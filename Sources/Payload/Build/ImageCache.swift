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
///
/// An entry is never trusted: it is `images/KEY.image`, a SHA-256 over the format, the key
/// and the ELF, then the ELF, and every hit checks that digest against the bytes it read
/// (once, into memory, so they cannot change between check and use). An entry changed
/// after it was written, truncated, or copied over another key's (its digest covers its own
/// key) is refused and rebuilt. The digest is a check, not a signature: whoever can write
/// the cache folder can write a matching entry, so the builder makes it private (0700).
public struct ImageCache: Sendable {
    public let directory: String

    /// Bumped when what a key covers or an entry holds changes, so old entries are never read.
    static let format = "enlighten-image-cache-2"
    /// Entries above this size are neither stored nor read (a linked image is a few MiB).
    static let largestEntry = 1 << 30
    static let digestSize = SHA256.byteCount

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

    public func path(_ key: String) -> String { directory + "/images/" + key + ".image" }

    /// What a lookup found.
    enum Lookup: Equatable {
        case absent
        case found([UInt8])
        /// An entry is there but may not be used; the reason, in words.
        case refused(String)
    }

    /// The cached ELF of `key`, verified against the digest written with it.
    func load(_ key: String) -> Lookup {
        let entry: [UInt8]
        switch Self.readEntry(path(key)) {
        case .success(nil): return .absent
        case .success(let bytes?): entry = bytes
        case .failure(let refusal): return .refused(refusal.reason)
        }
        guard entry.count > Self.digestSize else {
            return .refused("holds \(entry.count) bytes, fewer than a digest and an image (truncated?)")
        }
        let elf = Array(entry[Self.digestSize...])
        guard entry[..<Self.digestSize].elementsEqual(Self.digest(key: key, elf: elf)) else {
            return .refused("does not match its digest (changed after it was written, or another entry's)")
        }
        return .found(elf)
    }

    /// Best effort: a cache that cannot be written only makes the next build cold. The
    /// temporary file is `folder`'s until renamed, so a signal in between removes it too.
    func store(_ elf: [UInt8], key: String, folder: RunFolder) {
        guard Self.digestSize + elf.count <= Self.largestEntry else { return }
        let final = path(key)
        let images = (final as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(
            atPath: images, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let temporary = images + "/.\(key).\(ProcessInfo.processInfo.processIdentifier).\(UUID().uuidString.prefix(8))"
        guard folder.trackedFile(temporary, contents: Data(Self.digest(key: key, elf: elf) + elf)) else { return }
        if rename(temporary, final) != 0 { unlink(temporary) }
        folder.settled(temporary)
    }

    /// The digest an entry starts with: over the format, the key (so an entry copied to
    /// another key's name fails) and the ELF.
    static func digest(key: String, elf: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Data("\(format)\n\(key)\n".utf8))
        hasher.update(data: elf)
        return Array(hasher.finalize())
    }

    /// The whole entry, nil when there is none, or why it cannot be read: only a regular file
    /// of at most `largestEntry` bytes is (opened without following a symbolic link and
    /// without blocking, so a FIFO or a device put there is refused rather than waited on).
    private static func readEntry(_ path: String) -> Result<[UInt8]?, EntryRefusal> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        if descriptor < 0 {
            return errno == ENOENT ? .success(nil) : .failure(EntryRefusal("cannot be opened: \(String(cString: strerror(errno)))"))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return .failure(EntryRefusal("cannot be examined: \(String(cString: strerror(errno)))")) }
        guard status.st_mode & S_IFMT == S_IFREG else { return .failure(EntryRefusal("is not a regular file")) }
        guard status.st_size <= largestEntry else { return .failure(EntryRefusal("is \(status.st_size) bytes, more than the \(largestEntry) an entry may be")) }
        // One more byte than fstat said, to see a file that grew meanwhile.
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
        let data: Data
        do { data = try handle.read(upToCount: Int(status.st_size) + 1) ?? Data() } catch {
            return .failure(EntryRefusal("cannot be read: \(FileProblem.reason(error))"))
        }
        guard data.count == Int(status.st_size) else { return .failure(EntryRefusal("changed size while being read")) }
        return .success([UInt8](data))
    }

    struct EntryRefusal: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
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
