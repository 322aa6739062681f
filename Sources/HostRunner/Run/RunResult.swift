import GuestPhysical
import Payload

/// What a run produced, and the verdict derived from it.
public struct RunResult: Sendable {
    public let image: Image
    public let population: Population
    public let transports: [ConversionPlatform: Transport]
    /// Where guest RAM lived (guest_memfd or the memfd stand-in), and why.
    public let ramBacking: RAMBacking
    /// The page states when the run ended.
    public let finalStates: PageStateMap
    public let events: [RunEvent]
    public let vcpus: Int
    public let exits: Int
    public let droppedLogBytes: Int
    /// Unserved port and MSR accesses past the ones the event log keeps.
    public let unservedNotLogged: Int
    public let seconds: Double
    /// Every guest CHECKSUM kept, against the host's checksum of the same range's planned
    /// bytes (computed once, when the record arrived).
    public let checksums: [ChecksumComparison]
    /// Events of each kind past `RunOptions.maxEvents`: counted, not kept.
    public let eventsNotKept: [RunEvent.Kind: Int]
    /// Failed CHECKs and mismatched CHECKSUMs among the events not kept.
    public let failuresNotKept: Int
    /// The guest RAM the run gave the image, when known.
    public let ram: GPARange?
    /// The platform the run modelled (`RunOptions.platform`).
    public let platform: ConversionPlatform?
    /// Every validation served, kept in `events` or not.
    public let validations: ValidationTally

    public init(
        image: Image, population: Population, transports: [ConversionPlatform: Transport], ramBacking: RAMBacking,
        finalStates: PageStateMap,
        events: [RunEvent], vcpus: Int, exits: Int, droppedLogBytes: Int, unservedNotLogged: Int, seconds: Double,
        checksums: [ChecksumComparison], eventsNotKept: [RunEvent.Kind: Int] = [:], failuresNotKept: Int = 0,
        ram: GPARange? = nil, platform: ConversionPlatform? = nil, validations: ValidationTally = ValidationTally()
    ) {
        self.ram = ram
        self.platform = platform
        self.validations = validations
        self.image = image
        self.population = population
        self.transports = transports
        self.ramBacking = ramBacking
        self.finalStates = finalStates
        self.events = events
        self.vcpus = vcpus
        self.exits = exits
        self.droppedLogBytes = droppedLogBytes
        self.unservedNotLogged = unservedNotLogged
        self.seconds = seconds
        self.checksums = checksums
        self.eventsNotKept = eventsNotKept
        self.failuresNotKept = failuresNotKept
    }

    public struct ChecksumComparison: Sendable, Equatable {
        public let name: String
        public let gpa: UInt64
        public let length: UInt64
        public let guest: UInt32
        public let host: UInt32?
        public var matches: Bool { guest == host }

        public init(name: String, gpa: UInt64, length: UInt64, guest: UInt32, host: UInt32?) {
            self.name = name
            self.gpa = gpa
            self.length = length
            self.guest = guest
            self.host = host
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
        for (vcpu, reason) in stops { failures.append(prefix(vcpu) + reason.description + firmwareFaultNote(vcpu: vcpu)) }
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
            failures.append(
                "checksum '\(comparison.name)' of [\(hex(comparison.gpa)), +\(hex(comparison.length))) differs: guest \(hex(comparison.guest)), host \(host)")
        }
        if failuresNotKept > 0 {
            failures.append("\(failuresNotKept) more failed checks or checksums past the event limit (--max-events)")
        }
        return failures
    }

    /// Every vCPU reported an exit code or stopped at the `--until` milestone, and nothing
    /// failed.
    public var passed: Bool { failures.isEmpty && exitCodes.count + milestoneStops.count == vcpus }

    /// The vCPUs that ended at the run's `--until` milestone.
    public var milestoneStops: [Int: FirmwareMilestone] {
        var stops: [Int: FirmwareMilestone] = [:]
        for case .stoppedAtMilestone(let vcpu, let milestone) in events { stops[vcpu] = milestone }
        return stops
    }

    /// For a firmware volume run as an SNP guest or a TD: what its firmware validated or
    /// accepted, against the RAM and what the launch populated (`FirmwareMemorySummary`).
    public var firmwareMemory: FirmwareMemorySummary? {
        guard image.isFirmwareVolume, let ram else { return nil }
        return FirmwareMemorySummary(
            platform: platform, ram: ram, tally: validations, launchPages: population.launchPages, finalStates: finalStates)
    }

    /// The milestones a firmware volume reached, in the order first reached.
    public var milestones: [FirmwareMilestone] {
        var reached: [FirmwareMilestone] = []
        for case .milestone(_, let milestone) in events where !reached.contains(milestone) { reached.append(milestone) }
        return reached
    }
}
