import GuestPhysical

/// Whether a page is private to the guest or shared with the host.
public enum PageState: String, Sendable, Codable {
    case `private`, shared
}

/// The guest's half of a private page: what SEV-SNP's RMP Validated bit and the TDX
/// module's Secure-EPT PENDING/MAPPED state record (docs/platform-model.md §1.1).
public enum GuestAcceptance: String, Sendable, Codable {
    /// Shared pages, and every page of a KVM-platform guest (no validation concept there).
    case notApplicable
    /// Private and not yet usable: SNP guest-owned but not validated; TDX PENDING (AUGed).
    case pending
    /// Private and usable: SNP validated; TDX accepted (MAPPED), or loaded at launch.
    case accepted

    /// The platform's own word for this state, for reports.
    public func name(on platform: ConversionPlatform?) -> String {
        switch (self, platform) {
        case (.notApplicable, _): "-"
        case (.pending, .sevSNP?): "not validated"
        case (.accepted, .sevSNP?): "validated"
        case (.pending, _): "pending"
        case (.accepted, _): "accepted"
        }
    }
}

/// One page's whole state: the host's half (private/shared, changed by conversions) and the
/// guest's half (validation/acceptance, changed by PVALIDATE and TDG.MEM.PAGE.ACCEPT and
/// reset by every flip).
///
/// RMP entries and Secure-EPT leaves are all 4 KiB here, as KVM creates them for guest_memfd's
/// order-0 folios (SNP_LAUNCH_UPDATE and gmem prepare use PG_LEVEL_4K; TDX maps 4 KiB only),
/// so the model has no per-page size: 2 MiB validation/acceptance always meets 4 KiB entries.
public struct Page: Sendable, Hashable {
    public var state: PageState
    public var acceptance: GuestAcceptance

    public init(state: PageState, acceptance: GuestAcceptance) {
        self.state = state
        self.acceptance = acceptance
    }
}

/// The exact map of page states over guest-physical memory: the one page-state model of the
/// runner. Conversions ask it what actually changes, so the host discards exactly the pages
/// that flip and reports the ones that were already in the requested state; the platform
/// rules (`PageStateMap+Platform.swift`) answer validation, acceptance and accesses from it.
///
/// Every operation costs O(log n + k) for n runs in the map and k in the range it touches.
/// Ranges are page-granular (plans are validated 4 KiB aligned; requests are frames).
public struct PageStateMap: Sendable, Equatable {
    public struct Interval: Sendable, Equatable {
        public var range: GPARange
        public var state: PageState

        public init(range: GPARange, state: PageState) {
            self.range = range
            self.state = state
        }
    }

    /// A maximal run of pages with one whole state.
    public struct Run: Sendable, Equatable {
        public var range: GPARange
        public var page: Page
    }

    private var pages = IntervalMap<Page>()

    public init() {}

    public static func == (lhs: PageStateMap, rhs: PageStateMap) -> Bool { lhs.runs == rhs.runs }

    /// The result of a `set`: which parts flipped and which were already in that state.
    public struct Change: Sendable, Equatable {
        public var flipped: [GPARange] = []
        public var unchanged: [GPARange] = []
    }

    /// Every tracked run with its whole state.
    public var runs: [Run] {
        pages.trackedRuns.compactMap { run in run.value.map { Run(range: Self.range(run.startFrame, run.endFrame), page: $0) } }
    }

    /// Private/shared intervals, coalesced by state alone.
    public var intervals: [Interval] { Self.coalesced(runs) }

    /// How many runs the map holds (its fragmentation; what a request's cost must not grow with).
    public var runCount: Int { pages.boundaryCount }

    /// The private/shared state of every page in `range`, as intervals (gaps are untracked).
    public func states(in range: GPARange) -> [Interval] {
        Self.coalesced(runs(in: range))
    }

    /// The whole state of every tracked page in `range`.
    public func runs(in range: GPARange) -> [Run] {
        var result: [Run] = []
        forEachRun(in: range) { result.append($0) }
        return result
    }

    /// Calls `body` with each run `runs(in:)` returns, without building the list (the views
    /// follow every conversion and validation this way).
    func forEachRun(in range: GPARange, _ body: (Run) -> Void) {
        guard let (first, end) = Self.frames(range) else { return }
        pages.forEachRun(from: first, to: end) { run in
            if let page = run.value { body(Run(range: Self.range(run.startFrame, run.endFrame), page: page)) }
        }
    }

    public func state(at address: UInt64) -> PageState? { page(at: address)?.state }

    public func page(at address: UInt64) -> Page? { pages.value(at: address >> GPARange.frameShift) }

    /// What `set(range, to: state)` would change, without changing anything.
    public func change(setting range: GPARange, to state: PageState) -> Change {
        guard let (first, end) = Self.frames(range) else { return Change() }
        var change = Change()
        pages.forEachRun(from: first, to: end) { run in
            let part = Self.range(run.startFrame, run.endFrame)
            if let page = run.value, page.state == state {
                Self.append(part, to: &change.unchanged)
            } else {
                Self.append(part, to: &change.flipped)
            }
        }
        return change
    }

    /// Sets `range` to `state` and says what changed. Flipped pages take `acceptance` (a flip
    /// always loses the guest's validation); unchanged ones keep theirs, as a no-op conversion
    /// leaves the RMP / Secure EPT alone. Untracked parts count as flipped.
    @discardableResult
    public mutating func set(_ range: GPARange, to state: PageState, flippedAcceptance acceptance: GuestAcceptance = .notApplicable) -> Change {
        let change = change(setting: range, to: state)
        apply(change, to: state, flippedAcceptance: acceptance)
        return change
    }

    /// Records `change` (as `change(setting:to:)` computed it, with nothing in between):
    /// the flipped parts take `state` and `acceptance`; unchanged ones keep theirs.
    public mutating func apply(_ change: Change, to state: PageState, flippedAcceptance acceptance: GuestAcceptance) {
        for flipped in change.flipped {
            assign(Page(state: state, acceptance: acceptance), to: flipped)
        }
    }

    /// Sets the whole state of `range` (launch state, validation, acceptance).
    public mutating func assign(_ page: Page, to range: GPARange) {
        guard let (first, end) = Self.frames(range) else { return }
        pages.assign(page, from: first, to: end)
    }

    /// The runs from `pages` pages before the one holding `gpa` to `pages` after it, in
    /// words, for a diagnosis ("[0x3ff000, 0x400000) private accepted, …").
    public func describe(around gpa: UInt64, pages: UInt64 = 2, platform: ConversionPlatform?) -> String {
        let page = gpa >> GPARange.frameShift
        let first = page >= pages ? page - pages : 0
        let window = Self.range(first, page + pages + 1)
        let runs = runs(in: window)
        guard !runs.isEmpty else { return "no tracked pages around \(hex(gpa))" }
        return runs.map { run in
            let state =
                run.page.acceptance == .notApplicable
                ? run.page.state.rawValue
                : "\(run.page.state.rawValue) \(run.page.acceptance.name(on: platform))"
            return "\(run.range) \(state)"
        }.joined(separator: ", ")
    }

    // MARK: - Helpers

    /// The frames `range` touches, or nil for an empty one or one past the model's frames
    /// (the model tracks guest RAM only; the service refuses anything else before this).
    static func frames(_ range: GPARange) -> (UInt64, UInt64)? {
        guard !range.isEmpty, range.endFrame < UInt128(UInt64.max) else { return nil }
        return (range.firstFrame, UInt64(range.endFrame))
    }

    static func range(_ firstFrame: UInt64, _ endFrame: UInt64) -> GPARange {
        GPARange(firstFrame: firstFrame, pageCount: endFrame - firstFrame)
    }

    private static func append(_ range: GPARange, to ranges: inout [GPARange]) {
        if let last = ranges.last, last.upperBound == UInt128(range.start) {
            ranges[ranges.count - 1] = GPARange(start: last.start, end: range.end)
        } else {
            ranges.append(range)
        }
    }

    private static func coalesced(_ runs: [Run]) -> [Interval] {
        var result: [Interval] = []
        for run in runs {
            if let last = result.last, last.state == run.page.state, last.range.upperBound == UInt128(run.range.start) {
                result[result.count - 1].range = GPARange(start: last.range.start, end: run.range.end)
            } else {
                result.append(Interval(range: run.range, state: run.page.state))
            }
        }
        return result
    }
}
