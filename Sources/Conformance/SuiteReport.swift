import Foundation

/// All the verdicts of one suite run, in catalogue order, with where and by what they were
/// produced.
public struct SuiteReport: Sendable, Codable {
    public struct Summary: Sendable, Codable, Equatable {
        public let passed: Int
        public let failed: Int
        public let errors: Int
        public let skipped: Int
        public let notRun: Int

        init(_ results: [CaseResult]) {
            let count = { (status: CaseResult.Status) in results.filter { $0.status == status }.count }
            passed = count(.pass)
            failed = count(.fail)
            errors = count(.error)
            skipped = count(.skip)
            notRun = count(.notRun)
        }
    }

    public let version: String
    /// When the suite started, ISO 8601 in UTC.
    public let timestamp: String
    public let hostname: String
    /// Tool version, kernel and what the probe found, as name → value (JUnit <properties>).
    public let properties: [String: String]
    public let results: [CaseResult]
    public let summary: Summary
    /// Building the images the suite needed.
    public let buildSeconds: Double
    /// Running every case (wall clock).
    public let runSeconds: Double
    /// Of `runSeconds`, the firmware cases' phase (they run after the stub scenarios, so the
    /// stubs' own run phase is `runSeconds` minus this); nil when none ran.
    public let firmwareRunSeconds: Double?
    /// Why the suite stopped before every case ran (a signal, the deadline); nil when it did not.
    public let interrupted: String?

    public init(
        results: [CaseResult], context: SuiteContext, buildSeconds: Double, runSeconds: Double, firmwareRunSeconds: Double? = nil,
        interrupted: String? = nil
    ) {
        version = ToolVersion.current
        timestamp = context.timestamp
        hostname = context.hostname
        properties = context.properties
        self.results = results
        summary = Summary(results)
        self.buildSeconds = buildSeconds
        self.runSeconds = runSeconds
        self.firmwareRunSeconds = firmwareRunSeconds
        self.interrupted = interrupted
    }

    /// Exit status 0 needs no failure, no error and nothing left unrun.
    public var allPassed: Bool { summary.failed == 0 && summary.errors == 0 && summary.notRun == 0 }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encode(hostname, forKey: .hostname)
        try container.encode(properties, forKey: .properties)
        try container.encode(results, forKey: .results)
        try container.encode(summary, forKey: .summary)
        try container.encode(buildSeconds, forKey: .buildSeconds)
        try container.encode(runSeconds, forKey: .runSeconds)
        try container.encode(firmwareRunSeconds, forKey: .firmwareRunSeconds)
        try container.encode(interrupted, forKey: .interrupted)
    }
}

/// Where and when a suite runs: what every report of it records besides the verdicts.
public struct SuiteContext: Sendable {
    public let timestamp: String
    public let hostname: String
    public let properties: [String: String]

    /// The current time and host, the kernel (uname), and `facts` (the probe's findings).
    public init(facts: [String: String] = [:], now: Date = Date()) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        timestamp = formatter.string(from: now)
        hostname = ProcessInfo.processInfo.hostName
        var properties = facts
        properties["enlighten.version"] = ToolVersion.current
        properties["kernel"] = Self.kernel()
        self.properties = properties
    }

    private static func kernel() -> String {
        var names = utsname()
        guard uname(&names) == 0 else { return "unknown" }
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return "\(text(names.sysname)) \(text(names.release)) \(text(names.machine))"
    }
}
