import GuestPhysical
import HostRunner

extension RunReport {
    /// `firmwareMemory` in `run --json` (docs/json.md): `FirmwareMemorySummary` with GPAs as hex
    /// strings, sizes and counts as integers.
    struct FirmwareMemory: Encodable {
        struct Range: Encodable {
            let start: String, end: String
            init(_ range: GPARange) {
                start = hex(range.start)
                end = hex(range.upperBound)
            }
        }
        struct Span: Encodable { let start: String, end: String, pageSize: UInt64, pages: UInt64 }
        struct Answer: Encodable { let answer: String, pageSize: UInt64, count: Int }
        struct Launched: Encodable { let start: String, end: String, kind: String, source: String }

        let instruction: String
        let ram: Range
        let validated: [Span]
        let rescinded: [Span]
        let successes: [Answer]
        let failures: [Answer]
        let launched: [Launched]
        let unvalidated: [Range]
        let shared: [Range]

        init(_ summary: FirmwareMemorySummary) {
            let spans = { (list: [FirmwareMemorySummary.Span]) in
                list.map { Span(start: hex($0.range.start), end: hex($0.range.upperBound), pageSize: $0.pageSize, pages: $0.pages) }
            }
            let answers = { (list: [FirmwareMemorySummary.AnswerCount]) in
                list.map { Answer(answer: $0.answer, pageSize: $0.pageSize, count: $0.count) }
            }
            instruction = summary.instruction.description
            ram = Range(summary.ram)
            validated = spans(summary.validated)
            rescinded = spans(summary.rescinded)
            successes = answers(summary.successes)
            failures = answers(summary.failures)
            launched = summary.launched.map {
                Launched(start: hex($0.range.start), end: hex($0.range.upperBound), kind: $0.kind.rawValue, source: $0.source)
            }
            unvalidated = summary.unvalidated.map(Range.init)
            shared = summary.shared.map(Range.init)
        }
    }
}
