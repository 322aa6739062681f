import Foundation

/// Saves a built image: `NAME.elf`, `NAME.plan.json` and, for the firmware layout, `NAME.bin`.
/// Firmware-layout names carry a `.firmware` suffix so one folder can hold both layouts.
public struct ImageWriter: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public struct Written: Sendable {
        public let elf: String
        public let plan: String
        public let rom: String?
    }

    public func write(_ image: Image) throws(BuildError) -> Written {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .output(path: directory, reason: FileProblem.reason(error, path: directory, creatingFolder: true))
        }
        let base = directory + "/" + image.name + image.layout.artifactSuffix
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let plan: Data
        do { plan = try encoder.encode(PlanDocument(image)) } catch {
            throw .output(path: base + ".plan.json", reason: "\(error)")
        }
        try save(Data(image.elf), to: base + ".elf")
        try save(plan + Data("\n".utf8), to: base + ".plan.json")
        var rom: String?
        if let bytes = image.romBytes() {
            try save(Data(bytes), to: base + ".bin")
            rom = base + ".bin"
        }
        return Written(elf: base + ".elf", plan: base + ".plan.json", rom: rom)
    }

    private func save(_ data: Data, to path: String) throws(BuildError) {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw .output(path: path, reason: FileProblem.reason(error, path: path))
        }
    }
}
