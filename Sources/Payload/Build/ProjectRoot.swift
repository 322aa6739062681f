import Foundation

/// The folder holding GuestStubs/ and Linker/, which every build needs.
public struct ProjectRoot: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public var runtimeDirectory: String { path + "/GuestStubs/runtime" }
    public var includeDirectory: String { path + "/GuestStubs/include" }
    public var interfacesDirectory: String { path + "/GuestStubs/abi" }
    public var scenariosDirectory: String { path + "/GuestStubs/scenarios" }
    public func linkerScript(for layout: Layout) -> String { path + "/Linker/" + layout.scriptName }

    /// `ENLIGHTEN_HOME` if set; else the first folder, walking up from the executable and
    /// then from the working directory, that has GuestStubs/runtime and Linker/.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws(BuildError) -> ProjectRoot {
        if let home = environment["ENLIGHTEN_HOME"] {
            guard isRoot(home) else { throw .noProjectRoot("ENLIGHTEN_HOME=\(home) has no GuestStubs/runtime and Linker/") }
            return ProjectRoot(path: home)
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        let starts = [executable, URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        for start in starts {
            var folder = start.standardizedFileURL
            while true {
                if isRoot(folder.path) { return ProjectRoot(path: folder.path) }
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        throw .noProjectRoot(
            "no folder with GuestStubs/runtime and Linker/ above the executable or the working directory; set ENLIGHTEN_HOME to the Enlighten checkout")
    }

    private static func isRoot(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path + "/GuestStubs/runtime", isDirectory: &isDirectory) && isDirectory.boolValue
            && FileManager.default.fileExists(atPath: path + "/Linker/direct64.ld")
    }
}
