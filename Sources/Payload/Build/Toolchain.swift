import Foundation

/// The external tools an image build needs: nasm and ld.lld.
public struct Toolchain: Sendable {
    public let assembler: String
    public let linker: String

    public init(assembler: String, linker: String) {
        self.assembler = assembler
        self.linker = linker
    }

    /// Finds nasm on PATH and ld.lld on PATH or beside the Swift toolchain's own binaries
    /// (the toolchain ships ld.lld). `ENLIGHTEN_NASM` / `ENLIGHTEN_LD` override both.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws(BuildError) -> Toolchain {
        let path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        let swiftDirectories = ["swift", "swiftc"].compactMap { find($0, in: path) }
            .map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().deletingLastPathComponent().path }
        guard let nasm = environment["ENLIGHTEN_NASM"] ?? find("nasm", in: path) else {
            throw .missingTool(name: "nasm", hint: "install it with `apt-get install nasm` (or set ENLIGHTEN_NASM)")
        }
        guard let linker = environment["ENLIGHTEN_LD"] ?? find("ld.lld", in: path + swiftDirectories) else {
            throw .missingTool(name: "ld.lld", hint: "put the Swift toolchain's usr/bin on PATH or install it with `apt-get install lld` (or set ENLIGHTEN_LD)")
        }
        return Toolchain(assembler: nasm, linker: linker)
    }

    private static func find(_ tool: String, in directories: [String]) -> String? {
        directories.lazy.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
