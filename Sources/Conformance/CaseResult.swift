import HostRunner

/// The verdict of one scenario on one interface.
public struct CaseResult: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case pass, fail, skip }

    public let scenario: String
    public let interface: ConversionPlatform
    public let transport: Transport
    public let status: Status
    /// Why it failed (the first differing expectation) or was skipped; nil when it passed.
    public let reason: String?
    public let seconds: Double

    private enum CodingKeys: String, CodingKey { case scenario, interface, transport, status, reason, seconds }

    /// Every result carries `reason`, as null when it passed, so readers need no special case.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scenario, forKey: .scenario)
        try container.encode(interface, forKey: .interface)
        try container.encode(transport, forKey: .transport)
        try container.encode(status, forKey: .status)
        try container.encode(reason, forKey: .reason)
        try container.encode(seconds, forKey: .seconds)
    }
}

/// All the verdicts of one suite run.
public struct SuiteReport: Sendable, Codable {
    public struct Summary: Sendable, Codable, Equatable {
        public let passed: Int
        public let failed: Int
        public let skipped: Int
    }

    public let results: [CaseResult]
    public let summary: Summary
    /// Building the images the suite needed.
    public let buildSeconds: Double
    /// Running every case (wall clock).
    public let runSeconds: Double

    init(results: [CaseResult], buildSeconds: Double, runSeconds: Double) {
        self.results = results
        summary = Summary(
            passed: results.filter { $0.status == .pass }.count,
            failed: results.filter { $0.status == .fail }.count,
            skipped: results.filter { $0.status == .skip }.count)
        self.buildSeconds = buildSeconds
        self.runSeconds = runSeconds
    }

    public var allPassed: Bool { summary.failed == 0 }
}
