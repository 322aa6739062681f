import GuestPhysical

/// Every PVALIDATE / TDG.MEM.PAGE.ACCEPT a run served, folded as it is served: the ranges
/// changed, coalesced, and the answers counted by page size. Fed for every validation, kept
/// in the event log or not, so a firmware run that accepts more pages than `--max-events`
/// keeps (a TD's SEC accepts all of RAM, 16,384 requests at 64 MiB) is still summed up whole
/// (`FirmwareMemorySummary`).
public struct ValidationTally: Sendable, Equatable {
    /// A contiguous range changed by requests of one page size.
    public struct Span: Sendable, Equatable, CustomStringConvertible {
        public let range: GPARange
        public let pageSize: UInt64
        public var pages: UInt64 { range.size / pageSize }

        public init(range: GPARange, pageSize: UInt64) {
            self.range = range
            self.pageSize = pageSize
        }

        public var description: String { "\(range) in \(ValidationTally.sizeWords(pageSize)) pages (\(pages))" }
    }

    /// How many requests of one page size met one answer.
    public struct AnswerCount: Sendable, Equatable {
        public let answer: String
        public let pageSize: UInt64
        public let count: Int
    }

    private struct Key: Hashable {
        let answer: String
        let pageSize: UInt64
    }

    private var validatedSpans: [Span] = []
    private var rescindedSpans: [Span] = []
    private var successCounts: [UInt64: Int] = [:]
    private var failureCounts: [Key: Int] = [:]
    /// When a span list is folded next: spans only grow with requests that do not continue
    /// the last one, and folding merges them, so the lists stay as long as the ranges are many.
    private var foldAt = Self.foldStep
    private static let foldStep = 1024

    public init() {}

    /// Folds one served request in.
    public mutating func add(_ record: ValidationRecord) {
        guard record.changed else {
            failureCounts[Key(answer: record.result.description, pageSize: record.pageSize), default: 0] += 1
            return
        }
        successCounts[record.pageSize, default: 0] += 1
        let span = Span(range: record.range, pageSize: record.pageSize)
        if record.operation == .rescind {
            Self.append(span, to: &rescindedSpans)
        } else {
            Self.append(span, to: &validatedSpans)
        }
        if validatedSpans.count + rescindedSpans.count >= foldAt {
            validatedSpans = Self.coalesce(validatedSpans)
            rescindedSpans = Self.coalesce(rescindedSpans)
            foldAt = validatedSpans.count + rescindedSpans.count + Self.foldStep
        }
    }

    /// Another vCPU's tally folded into this one.
    public mutating func merge(_ other: ValidationTally) {
        validatedSpans += other.validatedSpans
        rescindedSpans += other.rescindedSpans
        successCounts.merge(other.successCounts, uniquingKeysWith: +)
        failureCounts.merge(other.failureCounts, uniquingKeysWith: +)
    }

    /// Successful PVALIDATE validates and ACCEPTs, by address, neighbours of one page size merged.
    public var validated: [Span] { Self.coalesce(validatedSpans) }
    /// Successful PVALIDATE rescinds, the same way.
    public var rescinded: [Span] { Self.coalesce(rescindedSpans) }
    /// Requests that changed their page, by page size (answer "success"), smaller first.
    public var successes: [AnswerCount] {
        successCounts.map { AnswerCount(answer: "success", pageSize: $0.key, count: $0.value) }.sorted { $0.pageSize < $1.pageSize }
    }
    /// Requests that did not, by page size and the platform's answer.
    public var failures: [AnswerCount] {
        failureCounts.map { AnswerCount(answer: $0.key.answer, pageSize: $0.key.pageSize, count: $0.value) }
            .sorted { ($0.pageSize, $0.answer) < ($1.pageSize, $1.answer) }
    }
    public var isEmpty: Bool { successCounts.isEmpty && failureCounts.isEmpty }

    private static func append(_ span: Span, to spans: inout [Span]) {
        if let last = spans.last, last.pageSize == span.pageSize, last.range.upperBound == UInt128(span.range.start) {
            spans[spans.count - 1] = Span(range: GPARange(start: last.range.start, end: span.range.end), pageSize: span.pageSize)
        } else {
            spans.append(span)
        }
    }

    /// Spans sorted by address, overlapping or touching neighbours of one page size merged.
    static func coalesce(_ spans: [Span]) -> [Span] {
        spans.sorted { ($0.range.start, $0.pageSize) < ($1.range.start, $1.pageSize) }.reduce(into: [Span]()) { merged, span in
            if let last = merged.last, last.pageSize == span.pageSize, last.range.upperBound >= UInt128(span.range.start) {
                merged[merged.count - 1] = Span(
                    range: GPARange(start: last.range.start, end: max(last.range.end, span.range.end)), pageSize: span.pageSize)
            } else {
                merged.append(span)
            }
        }
    }

    static func sizeWords(_ size: UInt64) -> String {
        size >= 1 << 20 && size % (1 << 20) == 0 ? "\(size >> 20) MiB" : "\(size >> 10) KiB"
    }
}
