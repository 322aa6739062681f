import GuestPhysical
import HostRunner

/// The verdict of one scenario on one interface, with everything needed to understand a
/// failure without re-running it: the differing expectations, the first failed CHECK, the
/// guest's last log lines, the host's event log and the `enlighten run` command that
/// reproduces the case.
public struct CaseResult: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case pass, fail
        /// The case could not be run as planned (its image did not build, its VM did not start).
        case error
        case skip
        /// The suite stopped (signal, deadline) before this case started.
        case notRun = "not-run"
    }

    /// A CHECK record the guest sent that did not hold.
    public struct FailedCheck: Sendable, Codable, Equatable {
        public let name: String
        public let actual: UInt64
        public let expected: UInt64

        public init(name: String, actual: UInt64, expected: UInt64) {
            self.name = name
            self.actual = actual
            self.expected = expected
        }
    }

    public let scenario: String
    public let interface: ConversionPlatform
    public let transport: Transport
    public let status: Status
    /// Why it failed (the first differing expectation), errored, was skipped or not run; nil
    /// when it passed.
    public let reason: String?
    public let seconds: Double
    /// Every expectation that differed, in the scenario's order (the first is `reason`).
    public var differences: [String] = []
    public var failedCheck: FailedCheck?
    /// The guest's last log lines (at most `CaseEvidence.logTailLines`).
    public var logTail: [String] = []
    /// The host's event log, one line per event.
    public var events: [String] = []
    /// The `enlighten run …` command that runs this case alone; nil for skips.
    public var reproduce: String?

    public init(scenario: String, interface: ConversionPlatform, transport: Transport, status: Status, reason: String?, seconds: Double) {
        self.scenario = scenario
        self.interface = interface
        self.transport = transport
        self.status = status
        self.reason = reason
        self.seconds = seconds
    }

    private enum CodingKeys: String, CodingKey {
        case scenario, interface, transport, status, reason, seconds, differences, failedCheck, logTail, events, reproduce
    }

    /// Every result carries every key (`reason`, `failedCheck`, `reproduce` as null when they
    /// do not apply), so readers need no special case.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scenario, forKey: .scenario)
        try container.encode(interface, forKey: .interface)
        try container.encode(transport, forKey: .transport)
        try container.encode(status, forKey: .status)
        try container.encode(reason, forKey: .reason)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(differences, forKey: .differences)
        try container.encode(failedCheck, forKey: .failedCheck)
        try container.encode(logTail, forKey: .logTail)
        try container.encode(events, forKey: .events)
        try container.encode(reproduce, forKey: .reproduce)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        scenario = try container.decode(String.self, forKey: .scenario)
        interface = try container.decode(ConversionPlatform.self, forKey: .interface)
        transport = try container.decode(Transport.self, forKey: .transport)
        status = try container.decode(Status.self, forKey: .status)
        reason = try container.decodeIfPresent(String.self, forKey: .reason)
        seconds = try container.decode(Double.self, forKey: .seconds)
        differences = try container.decodeIfPresent([String].self, forKey: .differences) ?? []
        failedCheck = try container.decodeIfPresent(FailedCheck.self, forKey: .failedCheck)
        logTail = try container.decodeIfPresent([String].self, forKey: .logTail) ?? []
        events = try container.decodeIfPresent([String].self, forKey: .events) ?? []
        reproduce = try container.decodeIfPresent(String.self, forKey: .reproduce)
    }

    /// The failure text CI shows: the reason, every difference, the failed CHECK, the
    /// reproduction command and the guest's log tail.
    public var explanation: String {
        var lines: [String] = []
        if let reason { lines.append(reason) }
        for difference in differences.dropFirst() { lines.append("also: \(difference)") }
        if let check = failedCheck {
            lines.append("first failed CHECK: '\(check.name)' got \(hex(check.actual)), expected \(hex(check.expected))")
        }
        if let reproduce { lines.append("reproduce: \(reproduce)") }
        if !logTail.isEmpty {
            lines.append("guest log (last \(logTail.count) lines):")
            lines += logTail.map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}
