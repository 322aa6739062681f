import Foundation

/// A stub to build: a built-in scenario or a user's `.asm` file or folder of them.
public struct StubSource: Sendable, Equatable {
    public let name: String
    public let files: [String]

    public init(name: String, files: [String]) {
        self.name = name
        self.files = files
    }

    /// Resolves what the user typed: an existing path wins; otherwise a scenario name.
    public static func resolve(_ argument: String, root: ProjectRoot) throws(BuildError) -> StubSource {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: argument, isDirectory: &isDirectory) {
            return try fromPath(argument, isDirectory: isDirectory.boolValue)
        }
        if argument.contains("/") || argument.hasSuffix(".asm") {
            throw .unknownStub(argument, "no such file or folder")
        }
        let file = root.scenariosDirectory + "/" + argument + ".asm"
        if manager.fileExists(atPath: file) { return StubSource(name: argument, files: [file]) }
        let folder = root.scenariosDirectory + "/" + argument
        if manager.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue {
            return try fromPath(folder, isDirectory: true)
        }
        let known = scenarioNames(root: root)
        throw .unknownStub(argument, "not a scenario (known: \(known.joined(separator: ", "))) and not a path")
    }

    /// Every scenario under GuestStubs/scenarios, by name.
    public static func scenarioNames(root: ProjectRoot) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root.scenariosDirectory)) ?? []
        return entries.compactMap { entry -> String? in
            if entry.hasSuffix(".asm") { return String(entry.dropLast(4)) }
            var isDirectory: ObjCBool = false
            let path = root.scenariosDirectory + "/" + entry
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
                !asmFiles(in: path).isEmpty
            else { return nil }
            return entry
        }.sorted()
    }

    private static func fromPath(_ path: String, isDirectory: Bool) throws(BuildError) -> StubSource {
        let url = URL(fileURLWithPath: path)
        if isDirectory {
            let files = asmFiles(in: path)
            guard !files.isEmpty else { throw .unknownStub(path, "the folder has no .asm files") }
            return StubSource(name: url.lastPathComponent, files: files)
        }
        guard path.hasSuffix(".asm") else { throw .unknownStub(path, "a stub is a .asm file or a folder of them") }
        return StubSource(name: url.deletingPathExtension().lastPathComponent, files: [path])
    }

    private static func asmFiles(in folder: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return entries.filter { $0.hasSuffix(".asm") }.sorted().map { folder + "/" + $0 }
    }
}
