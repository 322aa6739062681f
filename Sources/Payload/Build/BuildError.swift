/// Everything that can stop a build, each with one line a user can act on.
public enum BuildError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingTool(name: String, hint: String)
    case noProjectRoot(String)
    case unknownStub(String, String)
    /// nasm's diagnostics, as `file:line: message`, first one first.
    case assembly(file: String, diagnostics: [String])
    case noMain(stub: String)
    case link(stub: String, diagnostics: [String])
    case image(stub: String, ImageError)
    /// The plan cannot be written as the firmware layout's SEV/TDX metadata.
    case firmwareTables(stub: String, FirmwareTablesError)
    case output(path: String, reason: String)
    case toolFailed(tool: String, message: String)

    public var description: String {
        switch self {
        case .missingTool(let name, let hint): "\(name) not found: \(hint)"
        case .noProjectRoot(let why): "cannot find the Enlighten runtime: \(why)"
        case .unknownStub(let name, let why): "unknown stub '\(name)': \(why)"
        case .assembly(let file, let diagnostics): Self.summarize(diagnostics, fallback: "\(file): nasm failed")
        case .noMain(let stub): "stub '\(stub)' defines no global `main` (the runtime calls it; see docs/writing-stubs.md)"
        case .link(let stub, let diagnostics): "stub '\(stub)': " + Self.summarize(diagnostics, fallback: "linking failed")
        case .image(let stub, let error): "stub '\(stub)': \(error)"
        case .firmwareTables(let stub, let error): "stub '\(stub)' (firmware layout): the plan does not fit the firmware tables: \(error)"
        case .output(let path, let reason): "cannot write \(path): \(reason)"
        case .toolFailed(let tool, let message): "\(tool): \(message)"
        }
    }

    private static func summarize(_ lines: [String], fallback: String) -> String {
        guard let first = lines.first else { return fallback }
        return lines.count == 1 ? first : "\(first) (and \(lines.count - 1) more)"
    }
}
