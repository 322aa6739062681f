import GuestPhysical

/// What the host writes into guest memory before the guest runs, and in which state each
/// range starts. Read from the image's `.enlighten.plan` section (docs/image-format.md).
public struct PopulationPlan: Sendable, Equatable {
    public let ranges: [PlanRange]

    /// Entries a plan may hold, the runtime's included. Far above what a guest needs (the
    /// runtime has 7, a scenario a few more), it bounds what one image costs to build and read:
    /// nasm spends about 0.1 ms on each PLAN_RANGE, so 10^5 of them took 10 s per layout before
    /// the limit; enlighten.inc stops assembly at the first entry past it.
    public static let maximumEntries = 1024

    public init(ranges: [PlanRange]) { self.ranges = ranges.sorted { $0.range.start < $1.range.start } }

    /// Decodes the 48-byte entries of `.enlighten.plan`, dropping empty ones.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(PlanError) -> PopulationPlan {
        guard bytes.count % PlanRange.entrySize == 0 else {
            throw .malformedSection("its size \(bytes.count) is not a multiple of \(PlanRange.entrySize)")
        }
        let entries = bytes.count / PlanRange.entrySize
        guard entries <= maximumEntries else { throw .tooManyEntries(entries) }
        let reader = ByteReader(Array(bytes))
        var ranges: [PlanRange] = []
        for base in stride(from: 0, to: reader.count, by: PlanRange.entrySize) {
            // The size check above makes these reads infallible; keep them checked anyway.
            guard let start = try? reader.u64(base, "start"), let end = try? reader.u64(base + 8, "end"),
                let rawKind = try? reader.u32(base + 16, "kind"), let rawState = try? reader.u32(base + 20, "state")
            else { throw .malformedSection("entry at offset \(base) is truncated") }
            let nameBytes = reader.bytes[(base + 24)..<(base + 48)].prefix { $0 != 0 }
            let name = String(decoding: nameBytes, as: UTF8.self)
            guard let kind = PlanRange.Kind(code: rawKind) else { throw .unknownKind(name: name, code: rawKind) }
            guard let state = PlanRange.State(code: rawState) else { throw .unknownState(name: name, code: rawState) }
            guard end >= start else { throw .reversed(name: name, GPARange(start: start, end: end)) }
            if end == start { continue }
            ranges.append(PlanRange(name: name, range: GPARange(start: start, end: end), kind: kind, state: state))
        }
        return PopulationPlan(ranges: ranges)
    }

    /// Checks the rules of docs/writing-stubs.md; the first violation is thrown.
    public func validate(layout: Layout, loadable: [GPARange]) throws(PlanError) {
        for entry in ranges {
            guard entry.range.start % pageSize == 0, entry.range.end % pageSize == 0 else { throw .unaligned(entry) }
            guard layout.windows.contains(where: { $0.contains(entry.range) }) else { throw .outsideLayout(entry, layout) }
            if entry.kind == .shared && entry.state != .shared { throw .sharedMustStartShared(entry) }
        }
        for (previous, next) in zip(ranges, ranges.dropFirst()) where previous.range.overlaps(next.range) {
            throw .overlapping(previous, next)
        }
        for bytes in loadable where !bytes.isEmpty {
            let populated = ranges.filter { $0.kind.isPopulatedFromImage }.map(\.range)
            if let gap = Self.firstUncovered(bytes, by: populated) { throw .uncovered(gap) }
        }
    }

    public func range(containing address: UInt64) -> PlanRange? {
        ranges.first { $0.range.contains(address) }
    }

    /// The highest GPA below 4 GiB RAM the plan needs, to check it against guest memory.
    public var ramEnd: UInt64 {
        ranges.filter { Layout.ramWindow.contains($0.range) }.map(\.range.end).max() ?? 0
    }

    private static func firstUncovered(_ target: GPARange, by covers: [GPARange]) -> GPARange? {
        var cursor = target.start
        for cover in covers.sorted(by: { $0.start < $1.start }) where cover.end > cursor {
            if cover.start > cursor { return GPARange(start: cursor, end: min(cover.start, target.end)) }
            cursor = cover.end
            if cursor >= target.end { return nil }
        }
        return cursor < target.end ? GPARange(start: cursor, end: target.end) : nil
    }
}

let pageSize: UInt64 = 4096

public struct PlanRange: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case measured, unmeasured, zero, shared

        init?(code: UInt32) {
            switch code {
            case 1: self = .measured
            case 2: self = .unmeasured
            case 3: self = .zero
            case 4: self = .shared
            default: return nil
            }
        }

        /// Measured and unmeasured ranges carry the image's bytes; the others carry none.
        public var isPopulatedFromImage: Bool { self == .measured || self == .unmeasured }
    }

    public enum State: String, Sendable, Codable {
        case `private`, shared

        init?(code: UInt32) {
            switch code {
            case 1: self = .private
            case 2: self = .shared
            default: return nil
            }
        }
    }

    static let entrySize = 48

    public let name: String
    public let range: GPARange
    public let kind: Kind
    public let state: State

    public init(name: String, range: GPARange, kind: Kind, state: State) {
        self.name = name
        self.range = range
        self.kind = kind
        self.state = state
    }
}

public enum PlanError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing
    case malformedSection(String)
    case unknownKind(name: String, code: UInt32)
    case unknownState(name: String, code: UInt32)
    case reversed(name: String, GPARange)
    case unaligned(PlanRange)
    case outsideLayout(PlanRange, Layout)
    case sharedMustStartShared(PlanRange)
    case overlapping(PlanRange, PlanRange)
    case uncovered(GPARange)
    case tooManyEntries(Int)

    public var description: String {
        switch self {
        case .missing: "the image has no .enlighten.plan section (was it linked with a layout from Linker/?)"
        case .malformedSection(let why): "the .enlighten.plan section is malformed: \(why)"
        case .unknownKind(let name, let code): "plan range '\(name)' has unknown kind \(code) (1 measured, 2 unmeasured, 3 zero, 4 shared)"
        case .unknownState(let name, let code): "plan range '\(name)' has unknown start state \(code) (1 private, 2 shared)"
        case .reversed(let name, let range): "plan range '\(name)' ends before it starts: \(hex(range.start)) > \(hex(range.end))"
        case .unaligned(let entry): "plan range '\(entry.name)' \(entry.range) is not 4 KiB aligned"
        case .outsideLayout(let entry, let layout):
            "plan range '\(entry.name)' \(entry.range) lies outside the \(layout.rawValue) layout (allowed: \(layout.windows.map(\.description).joined(separator: ", ")))"
        case .sharedMustStartShared(let entry): "plan range '\(entry.name)' \(entry.range) is of kind shared but starts private"
        case .overlapping(let first, let second): "plan ranges '\(first.name)' \(first.range) and '\(second.name)' \(second.range) overlap"
        case .uncovered(let gap): "loadable bytes \(gap) are not covered by any measured or unmeasured plan range"
        case .tooManyEntries(let count):
            "the plan has \(count) entries, more than the \(PopulationPlan.maximumEntries) an image may have (the runtime's included)"
        }
    }
}
