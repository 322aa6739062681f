import GuestPhysical

/// A firmware developer's view of what a confidential run's firmware did to its RAM: the
/// ranges it validated (SEV-SNP PVALIDATE) or accepted (TDX TDG.MEM.PAGE.ACCEPT), coalesced
/// into contiguous ranges of one page size, how many requests of each size succeeded and how
/// many met each failing answer, against the RAM the run gave it, what the launch populated
/// there (the metadata sections), and what was left unvalidated or unaccepted when it ended.
/// The event log lists every request; this answers "did SEC cover my RAM, and how?" at a glance.
public struct FirmwareMemorySummary: Sendable, Equatable {
    public typealias Span = ValidationTally.Span
    public typealias AnswerCount = ValidationTally.AnswerCount

    /// A range the launch populated in RAM before the first instruction, and from what.
    public struct Launched: Sendable, Equatable {
        public let range: GPARange
        public let kind: LaunchPage.Kind
        public let source: String
    }

    public let instruction: ValidationInstruction
    public let ram: GPARange
    /// Successful PVALIDATE (validate) or ACCEPT requests, coalesced.
    public let validated: [Span]
    /// Successful PVALIDATE rescinds, coalesced (none for TDX).
    public let rescinded: [Span]
    /// Requests that changed their page, by page size.
    public let successes: [AnswerCount]
    /// Requests that did not, by answer and page size.
    public let failures: [AnswerCount]
    /// What the launch populated in RAM (the image's metadata sections), in address order.
    public let launched: [Launched]
    /// RAM still private and not validated / not accepted when the run ended.
    public let unvalidated: [GPARange]
    /// RAM shared with the host when the run ended.
    public let shared: [GPARange]

    /// The summary of the requests in `tally`, for a run of `platform` over `ram` that
    /// launched `launchPages` and ended in `finalStates`; nil for a platform without
    /// validation (kvm).
    public init?(platform: ConversionPlatform?, ram: GPARange, tally: ValidationTally, launchPages: [LaunchPage], finalStates: PageStateMap) {
        switch platform {
        case .sevSNP?: instruction = .pvalidate
        case .tdx?: instruction = .accept
        case .kvm?, nil: return nil
        }
        self.ram = ram
        validated = tally.validated
        rescinded = tally.rescinded
        successes = tally.successes
        failures = tally.failures
        launched = launchPages.filter { ram.overlaps($0.range) }.sorted { $0.range.start < $1.range.start }
            .map { Launched(range: $0.range, kind: $0.kind, source: $0.source.description) }
        let runs = finalStates.runs(in: ram)
        unvalidated = Self.union(runs.filter { $0.page.state == .private && $0.page.acceptance == .pending }.map(\.range))
        shared = Self.union(runs.filter { $0.page.state == .shared }.map(\.range))
    }

    static func union(_ ranges: [GPARange]) -> [GPARange] {
        ranges.sorted { $0.start < $1.start }.reduce(into: [GPARange]()) { merged, range in
            if let last = merged.last, last.upperBound >= UInt128(range.start) {
                merged[merged.count - 1] = GPARange(start: last.start, end: max(last.end, range.end))
            } else {
                merged.append(range)
            }
        }
    }

    /// The report's lines, indented by the caller.
    public var lines: [String] {
        let verb = instruction == .pvalidate ? "validated" : "accepted"
        let counts = { (list: [AnswerCount]) in
            list.map { "\($0.count) × \(ValidationTally.sizeWords($0.pageSize)) \($0.answer)" }.joined(separator: ", ")
        }
        let ranges = { (list: [GPARange]) in list.isEmpty ? "none" : list.map(\.description).joined(separator: " ") }
        var lines = ["RAM \(ram) (\(ram.size >> 20) MiB), what the firmware \(verb) with \(instruction):"]
        lines.append(
            "  populated at launch: "
                + (launched.isEmpty ? "none" : launched.map { "\($0.range) \($0.kind.rawValue) (\($0.source))" }.joined(separator: ", ")))
        lines.append("  \(verb): " + (validated.isEmpty ? "none" : validated.map(\.description).joined(separator: ", ")))
        if !rescinded.isEmpty { lines.append("  rescinded: " + rescinded.map(\.description).joined(separator: ", ")) }
        lines.append("  answers: " + ([counts(successes), counts(failures)].filter { !$0.isEmpty }.joined(separator: "; ").nonEmpty ?? "none"))
        lines.append("  shared at the end: \(ranges(shared))")
        lines.append("  not \(verb) at the end: \(ranges(unvalidated))")
        return lines
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
