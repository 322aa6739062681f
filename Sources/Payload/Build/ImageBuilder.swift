import Foundation

/// Assembles the runtime and a stub with nasm, links them with a layout's script, and reads
/// the result back as an `Image`.
///
/// The runtime is assembled once per layout per builder and shared by every stub built
/// after, which is most of what makes `build --all` fast.
public final class ImageBuilder: @unchecked Sendable {
    public let toolchain: Toolchain
    public let root: ProjectRoot
    /// What to remove to leave nothing of this builder behind: its run folder when it made
    /// its own, else its folder inside the run folder it was given (removed when it goes).
    public var scratchFolder: String { ownsRunFolder ? runFolder.path : workDirectory }
    /// Where the builder's temporary files live (docs/image-format.md, "Build cache and
    /// temporary files").
    public let runFolder: RunFolder
    private let ownsRunFolder: Bool
    private let workDirectory: String
    // Guarded by `lock`: runtime objects per layout, assembled on first use.
    private let lock = NSLock()
    private var libraries: [LibraryKey: Result<[String], BuildError>] = [:]
    private var sharedKeys: [Layout: String] = [:]
    private var counts = CacheCounts()
    /// Linked images by content (nil: every build is cold).
    public let cache: ImageCache?
    /// Where the builder says what the user should know but is no error: a cache entry
    /// refused and rebuilt. One line each, from any thread.
    private let notices: @Sendable (String) -> Void

    /// The runtime is linked whole; the interface library (GuestStubs/abi) lazily, so an
    /// image carries only the interfaces its stub calls, and only their request sites.
    enum Library: String { case runtime, interfaces }
    private struct LibraryKey: Hashable {
        let library: Library
        let layout: Layout
    }

    /// `runFolder`: the command's (which removes it on every exit, signals included); nil
    /// makes one of the builder's own, removed when the builder goes.
    public init(
        toolchain: Toolchain, root: ProjectRoot, cache: ImageCache? = ImageCache.standard(),
        runFolder: RunFolder? = nil, notices: @escaping @Sendable (String) -> Void = ImageBuilder.warnOnStandardError
    ) throws(BuildError) {
        self.toolchain = toolchain
        self.root = root
        self.cache = cache
        self.notices = notices
        ownsRunFolder = runFolder == nil
        if let runFolder { self.runFolder = runFolder } else { self.runFolder = try RunFolder() }
        workDirectory = try self.runFolder.makeFolder("build")
    }

    deinit {
        if ownsRunFolder { runFolder.remove() } else { try? FileManager.default.removeItem(atPath: workDirectory) }
    }

    /// The default `notices`: `warning: …` on stderr, where `--json` output does not go.
    public static let warnOnStandardError: @Sendable (String) -> Void = { notice in
        FileHandle.standardError.write(Data("warning: \(notice)\n".utf8))
    }

    public struct CacheCounts: Sendable, Equatable {
        /// Images taken from the cache.
        public var hits = 0
        /// Images built (a refused entry's rebuild included).
        public var misses = 0
        /// Entries found but refused: changed, truncated, another key's, not a file.
        public var refused = 0
    }

    /// What the cache did since this builder was made.
    public var cacheCounts: CacheCounts {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }

    /// The flags every build passes, part of every cache key.
    static let linkerFlags = ["-static", "-nostdlib", "--no-pie", "--build-id=none", "-z", "noexecstack"]
    static func assemblerFlags(_ layout: Layout) -> [String] { ["-f", "elf64", "-D", layout.assemblerDefine] }

    /// Builds one stub in one layout, or takes it from the cache when nothing it is made
    /// of changed. Nothing is written outside the builder's scratch folder and the cache;
    /// `ImageWriter` saves the outputs.
    public func build(_ stub: StubSource, layout: Layout) throws(BuildError) -> Image {
        guard let cache else { return try buildFresh(stub, layout: layout) }
        let key = ImageCache.key(shared: sharedKey(layout), stub: stub)
        var refusal: String?
        switch cache.load(key) {
        case .absent:
            break
        case .found(let elf):
            do {
                let image = try Image(name: stub.name, elf: elf)
                count { $0.hits += 1 }
                return image
            } catch {
                refusal = "is no image (\(error))"
            }
        case .refused(let why):
            refusal = why
        }
        if let refusal {
            // Never used: rebuilt, and the rebuild replaces it.
            count { $0.refused += 1 }
            notices("image cache entry \(cache.path(key)) for stub '\(stub.name)' (\(layout.rawValue)) \(refusal): not used, rebuilding it")
        }
        let image = try buildFresh(stub, layout: layout)
        cache.store(image.elf, key: key, folder: runFolder)
        count { $0.misses += 1 }
        return image
    }

    private func count(_ change: (inout CacheCounts) -> Void) {
        lock.lock()
        change(&counts)
        lock.unlock()
    }

    private func sharedKey(_ layout: Layout) -> String {
        lock.lock()
        defer { lock.unlock() }
        if let key = sharedKeys[layout] { return key }
        let key = ImageCache.sharedKey(
            toolchain: toolchain, root: root, layout: layout,
            flags: Self.assemblerFlags(layout) + Self.linkerFlags)
        sharedKeys[layout] = key
        return key
    }

    private func buildFresh(_ stub: StubSource, layout: Layout) throws(BuildError) -> Image {
        let runtime = try libraryObjects(.runtime, for: layout)
        let interfaces = try libraryObjects(.interfaces, for: layout)
        let folder = workDirectory + "/\(layout.rawValue)-\(stub.name)-\(UUID().uuidString.prefix(8))"
        try makeFolder(folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let stubObjects = try assemble(stub.files, layout: layout, into: folder, extraInclude: stub.files.first.map(parentFolder))
        try requireMain(stub, objects: stubObjects)
        let elfPath = folder + "/\(stub.name).elf"
        let result = try Subprocess.run(
            toolchain.linker, for: runFolder,
            [
                "-T", root.linkerScript(for: layout),
            ] + Self.linkerFlags + [
                "-o", elfPath,
            ] + runtime + stubObjects + ["--start-lib"] + interfaces + ["--end-lib"])
        guard result.status == 0 else {
            throw .link(stub: stub.name, diagnostics: Self.diagnostics(result.errorOutput, markers: ["error:"]))
        }
        guard let data = FileManager.default.contents(atPath: elfPath) else {
            throw .output(path: elfPath, reason: "the linker wrote no output")
        }
        var elf = [UInt8](data)
        do {
            if layout == .firmware { try Self.installFirmwareTables(into: &elf, name: stub.name) }
            return try Image(name: stub.name, elf: elf)
        } catch let error as ImageError {
            throw .image(stub: stub.name, error)
        } catch let error as ELFError {
            throw .image(stub: stub.name, .elf(error))
        } catch let error as BuildError {
            throw error
        } catch {
            throw .link(stub: stub.name, diagnostics: ["firmware tables: \(error)"])
        }
    }

    /// The firmware layout reserves `.footer` (zeros) for the OVMF-style GUID table and SEV /
    /// TDX metadata, which describe the plan and so exist only once it is linked: write them
    /// into the ELF's bytes, where the ROM (`NAME.bin`) and the runner both take them from.
    static func installFirmwareTables(into elf: inout [UInt8], name: String) throws {
        let linked = try Image(name: name, elf: elf)
        let file = try ELFFile(bytes: elf)
        guard let footer = file.section(named: ".footer"), footer.size == UInt64(FirmwareTables.areaSize),
            footer.address + footer.size == Layout.romWindow.end - 32
        else {
            throw BuildError.link(
                stub: name, diagnostics: ["the firmware layout has no \(FirmwareTables.areaSize)-byte .footer ending at 4 GiB - 32 (Linker/firmware.ld)"])
        }
        let tables: [UInt8]
        do {
            tables = try FirmwareTables.build(plan: linked.plan, romBase: Layout.romWindow.start, romSize: Layout.romSize)
        } catch {
            throw BuildError.firmwareTables(stub: name, error)
        }
        let start = Int(footer.offset)
        guard elf[start..<(start + tables.count)].allSatisfy({ $0 == 0 }) else {
            throw BuildError.link(stub: name, diagnostics: ["the .footer area is not empty: a stub must not put data in it"])
        }
        elf.replaceSubrange(start..<(start + tables.count), with: tables)
    }

    /// Builds stubs × layouts in parallel and saves each; the first error (in job order) wins.
    public func build(_ stubs: [StubSource], layouts: [Layout], writer: ImageWriter) throws(BuildError) -> [(Image, ImageWriter.Written)] {
        let jobs = stubs.flatMap { stub in layouts.map { (stub, $0) } }
        let results = ConcurrentSlots<Result<(Image, ImageWriter.Written), BuildError>>(count: jobs.count)
        ParallelWork.run(jobs.count) { [self] index in
            let (stub, layout) = jobs[index]
            results.set(
                index,
                Result { () throws(BuildError) in
                    let image = try build(stub, layout: layout)
                    return (image, try writer.write(image))
                })
        }
        var built: [(Image, ImageWriter.Written)] = []
        for result in results.values.compactMap({ $0 }) { built.append(try result.get()) }
        return built
    }

    private func libraryObjects(_ library: Library, for layout: Layout) throws(BuildError) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        let key = LibraryKey(library: library, layout: layout)
        if let cached = libraries[key] { return try cached.get() }
        let directory = library == .runtime ? root.runtimeDirectory : root.interfacesDirectory
        let result = Result { () throws(BuildError) in
            let folder = workDirectory + "/\(library.rawValue)-\(layout.rawValue)"
            try makeFolder(folder)
            let sources = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { $0.hasSuffix(".asm") }.sorted().map { directory + "/" + $0 }
            return try assemble(sources, layout: layout, into: folder, extraInclude: nil)
        }
        libraries[key] = result
        return try result.get()
    }

    /// Assembles each file to `folder/<index>-<name>.o`, in parallel.
    private func assemble(_ files: [String], layout: Layout, into folder: String, extraInclude: String?) throws(BuildError) -> [String] {
        let objects = files.enumerated().map { index, file in
            folder + "/\(index)-" + URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent + ".o"
        }
        let failures = ConcurrentSlots<BuildError>(count: files.count)
        ParallelWork.run(files.count) { [self] index in
            var arguments =
                Self.assemblerFlags(layout) + [
                    "-I", root.includeDirectory + "/", "-I", root.runtimeDirectory + "/",
                    "-I", root.interfacesDirectory + "/",
                ]
            if let extraInclude { arguments += ["-I", extraInclude + "/"] }
            arguments += ["-o", objects[index], files[index]]
            switch Result(catching: { () throws(BuildError) in try Subprocess.run(toolchain.assembler, for: runFolder, arguments) }) {
            case .success(let result) where result.status != 0:
                // nasm reports `file:line: error:` and, for %fatal (PLAN_RANGE's limit), `fatal:`.
                failures.set(index, .assembly(file: files[index], diagnostics: Self.diagnostics(result.errorOutput, markers: ["error:", "fatal:"])))
            case .success:
                break
            case .failure(let error):
                failures.set(index, error)
            }
        }
        if let failure = failures.values.compactMap({ $0 }).first { throw failure }
        return objects
    }

    private func requireMain(_ stub: StubSource, objects: [String]) throws(BuildError) {
        for object in objects {
            guard let data = FileManager.default.contents(atPath: object),
                let file = try? ELFFile(bytes: [UInt8](data))
            else { continue }
            if file.symbols.contains(where: { $0.name == "main" && $0.isGlobal && $0.isDefined }) { return }
        }
        throw .noMain(stub: stub.name)
    }

    /// mkdir(2), not `mkdir -p`: once the run folder is removed nothing may re-create it.
    private func makeFolder(_ path: String) throws(BuildError) {
        guard mkdir(path, 0o700) == 0 else { throw .output(path: path, reason: String(cString: strerror(errno))) }
    }

    private func parentFolder(_ file: String) -> String {
        URL(fileURLWithPath: file).deletingLastPathComponent().path
    }

    /// The tool's error lines, paths made relative to the working directory for reading.
    static func diagnostics(_ output: String, markers: [String]) -> [String] {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        let lines = output.split(separator: "\n").map { $0.replacingOccurrences(of: cwd, with: "") }
        let errors = lines.filter { line in markers.contains { line.contains($0) } }
        return errors.isEmpty ? lines.filter { !$0.isEmpty } : errors
    }
}
