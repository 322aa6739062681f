import GuestPhysical
import HostRunner

/// What a finished run leaves in a case's report: the first failed CHECK, the guest's last
/// log lines and the host's event log as text, so a failure explains itself in CI.
enum CaseEvidence {
    static let logTailLines = 20
    /// A hostile or large scenario logs thousands of events; reports keep the first ones.
    static let eventLines = 400

    static func attach(_ result: RunResult, to verdict: inout CaseResult) {
        verdict.failedCheck =
            result.events.lazy.compactMap { event -> CaseResult.FailedCheck? in
                guard case .record(_, .check(let name, let actual, let expected, false)) = event else { return nil }
                return CaseResult.FailedCheck(name: name, actual: actual, expected: expected)
            }.first
        verdict.logTail = Array(result.logLines.suffix(logTailLines))
        let lines = result.events.compactMap { line($0, prefixed: result.vcpus > 1) }
        verdict.events = Array(lines.prefix(eventLines))
        if lines.count > eventLines { verdict.events.append("… \(lines.count - eventLines) more events not kept") }
    }

    /// One event in words; guest log lines are left to `logTail`.
    static func line(_ event: RunEvent, prefixed: Bool) -> String? {
        func on(_ vcpu: Int) -> String { prefixed ? "[vcpu\(vcpu)] " : "" }
        switch event {
        case .log:
            return nil
        case .record(let vcpu, let record):
            switch record {
            case .check(let name, let actual, let expected, let passed):
                return on(vcpu) + "CHECK \(name): got \(hex(actual)), expected \(hex(expected)) \(passed ? "ok" : "FAILED")"
            case .checksum(let name, let gpa, let length, let crc):
                return on(vcpu) + "CHECKSUM \(name) [\(hex(gpa)), +\(hex(length))) = \(hex(crc))"
            case .value(let name, let value):
                return on(vcpu) + "VALUE \(name) = \(hex(value))"
            case .exception(let vector, let errorCode, let rip, let cr2):
                return on(vcpu) + "EXCEPTION vector \(vector) error code \(hex(errorCode)) at \(hex(rip)), CR2 \(hex(cr2))"
            case .log(let text):
                return on(vcpu) + "LOG \(text)"
            }
        case .malformedRecord(let vcpu, let gpa, let reason):
            return on(vcpu) + "malformed record at \(hex(gpa)): \(reason)"
        case .msr(let vcpu, let index, let write, let value, let answered):
            return on(vcpu) + "\(write ? "wrmsr" : "rdmsr") \(hex(index)) \(hex(value))\(answered ? "" : " (unserved)")"
        case .ignoredIO(let vcpu, let port, let write):
            return on(vcpu) + "unserved \(write ? "out" : "in") port \(hex(port))"
        case .ignoredMMIO(let vcpu, let gpa, let length, let write):
            return on(vcpu) + "unserved MMIO \(write ? "write" : "read") of \(length) bytes at \(hex(gpa))"
        case .conversion(let vcpu, let record):
            return on(vcpu) + "convert \(record.range) → \(record.direction.rawValue) via \(record.form) (\(record.transport.rawValue)): \(record.outcome.name)"
        case .rejected(let vcpu, let request):
            return on(vcpu) + "refused \(request.request) via \(request.interface.rawValue): \(request.answer)"
        case .validation(let vcpu, let record):
            return on(vcpu) + "\(record.instruction) \(record.operation) \(record.range) (\(hex(record.pageSize)) pages): \(record.result)"
        case .served(let vcpu, let interface, let request, let answer):
            return on(vcpu) + "\(interface.rawValue) \(request): \(answer)"
        case .emulated(let vcpu, let instruction, let at):
            return on(vcpu) + "emulated \(instruction) at \(at)"
        case .milestone(let vcpu, let milestone):
            return on(vcpu) + "reached \(milestone.rawValue)"
        case .stoppedAtMilestone(let vcpu, let milestone):
            return on(vcpu) + "stopped at \(milestone.rawValue), as asked"
        case .exited(let vcpu, let code):
            return on(vcpu) + "exited with code \(code)"
        case .stopped(let vcpu, let reason):
            return on(vcpu) + "stopped: \(reason)"
        }
    }
}
