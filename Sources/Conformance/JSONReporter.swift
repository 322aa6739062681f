import Foundation

/// The JSON report: `version`, `timestamp`, `hostname`, `properties`, `results` (one object
/// per case, every key always present) and `summary`, plus build and run times. Numbers
/// follow the project's convention (docs/json.md): counts and seconds are JSON numbers;
/// addresses and register values are "0x…" strings.
public enum JSONReporter {
    public static func data(_ report: SuiteReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(report) + Data("\n".utf8)
    }
}
