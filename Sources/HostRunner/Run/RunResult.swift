import Payload

/// What a run produced, and the verdict derived from it.
public struct RunResult: Sendable {
    public let image: Image
    public let population: Population
    public let transports: [ConversionPlatform: Transport]
    /// The page states when the run ended.
    public let finalStates: PageStateMap
    public let events: [RunEvent]
    public let vcpus: Int
    public let exits: Int
    public let droppedLogBytes: Int
    /// Unserved port and MSR accesses past the ones the event log keeps.
    public let unservedNotLogged: Int
    public let seconds: Double

    public struct ChecksumComparison: Sendable, Equatable {
        public let name: String
        public let gpa: UInt64
        public let length: UInt64
        public let guest: UInt32
        public let host: UInt32?
        public var matches: Bool { guest == host }
    }

    /// Every guest CHECKSUM against the host's checksum of the same range's planned bytes.
    public var checksums: [ChecksumComparison] {
        events.compactMap { event in
            guard case .record(_, .checksum(let name, let gpa, let length, let crc)) = event else { return nil }
            return ChecksumComparison(name: name, gpa: gpa, length: length, guest: crc,
                                      host: population.plannedChecksum(gpa: gpa, length: length))
        }
    }

    public var exitCodes: [Int: UInt32] {
        var codes: [Int: UInt32] = [:]
        for case .exited(let vcpu, let code) in events { codes[vcpu] = code }
        return codes
    }

    public var stops: [(vcpu: Int, reason: VCPUStop)] {
        events.compactMap { if case .stopped(let vcpu, let reason) = $0 { (vcpu, reason) } else { nil } }
    }

    /// Every conversion the host served, in order per vCPU.
    public var conversions: [(vcpu: Int, record: ConversionRecord)] {
        events.compactMap { if case .conversion(let vcpu, let record) = $0 { (vcpu, record) } else { nil } }
    }

    public var values: [String: UInt64] {
        var values: [String: UInt64] = [:]
        for case .record(_, .value(let name, let value)) in events { values[name] = value }
        return values
    }

    public var logLines: [String] {
        events.compactMap { if case .log(_, let line) = $0 { line } else { nil } }
    }

    /// Each reason the run did not pass, in a sentence; empty when it passed.
    public var failures: [String] {
        var failures: [String] = []
        let prefix = { (vcpu: Int) in self.vcpus > 1 ? "vCPU \(vcpu): " : "" }
        for (vcpu, reason) in stops { failures.append(prefix(vcpu) + reason.description) }
        for (vcpu, code) in exitCodes.sorted(by: { $0.key < $1.key }) where code != 0 {
            failures.append(prefix(vcpu) + "the guest exited with code \(code)")
        }
        for event in events {
            switch event {
            case .record(let vcpu, .check(let name, let actual, let expected, false)):
                failures.append(prefix(vcpu) + "check '\(name)' failed: got \(LibraryError.describe(actual)), expected \(hex(expected))")
            default:
                break
            }
        }
        let malformed = events.compactMap { event -> (Int, UInt64, String)? in
            if case .malformedRecord(let vcpu, let gpa, let reason) = event { (vcpu, gpa, reason) } else { nil }
        }
        if let (vcpu, gpa, reason) = malformed.first {
            let more = malformed.count > 1 ? " (\(malformed.count) malformed records in all)" : ""
            failures.append(prefix(vcpu) + "malformed report record at \(hex(gpa)): \(reason)" + more)
        }
        for comparison in checksums where !comparison.matches {
            let host = comparison.host.map { hex($0) } ?? "none (the range is not in guest RAM)"
            failures.append("checksum '\(comparison.name)' of [\(hex(comparison.gpa)), +\(hex(comparison.length))) differs: guest \(hex(comparison.guest)), host \(host)")
        }
        return failures
    }

    public var passed: Bool { failures.isEmpty && exitCodes.count == vcpus }
}
