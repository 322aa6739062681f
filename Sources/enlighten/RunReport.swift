import Conformance
import Foundation
import GuestPhysical
import HostRunner
import Measurement

/// `run --json`: the whole result, in a shape that scripts can rely on (docs/report-protocol.md).
struct RunReport {
    struct Check: Encodable { let vcpu: Int, name: String, actual: String, expected: String, passed: Bool }
    struct Value: Encodable { let vcpu: Int, name: String, value: String }
    struct Checksum: Encodable { let name: String, gpa: String, length: UInt64, guest: String, host: String?, matches: Bool }
    struct Conversion: Encodable {
        let vcpu: Int, interface: String, form: String, transport: String, start: String, end: String
        let direction: String, outcome: String, flipped: [String], unchanged: [String], seconds: Double
    }
    struct Rejected: Encodable { let vcpu: Int, interface: String, transport: String, request: String, answer: String }
    struct Validation: Encodable {
        let vcpu: Int, interface: String, instruction: String, operation: String, start: String, end: String
        let pageSize: UInt64, result: String, changed: Bool, transport: String
    }
    struct Emulated: Encodable {
        let vcpu: Int, instruction: String, at: String
    }
    /// A guest's own termination request (GHCB termination, TDVMCALL ReportFatalError).
    struct Termination: Encodable {
        let vcpu: Int, platform: String, words: String
        let reasonSet: UInt8?, reasonCode: UInt8?, via: String?
        let errorCode: String?, gpa: String?, message: String?
    }
    struct Populated: Encodable { let name: String, start: String, end: String, kind: String, state: String, bytesWritten: UInt64, checksum: String? }

    let result: RunResult
    let kernelHashes: SEVKernelHashes?

    init(_ result: RunResult, kernelHashes: SEVKernelHashes? = nil) {
        self.result = result
        self.kernelHashes = kernelHashes
    }

    /// `run --json`: one object, written member by member and event by event as it is
    /// encoded (JSONStream), keys in sorted order.
    func stream(to handle: FileHandle) {
        var out = JSONStream(handle)
        let events = result.events
        // Where guest RAM lived: "guest_memfd" or "memfd" (the stand-in), never claimed otherwise.
        out.member("backing", result.ramBacking.kind.rawValue)
        out.member("backingReason", result.ramBacking.reason)
        out.array(
            "checks",
            events.lazy.compactMap { (event: RunEvent) -> Check? in
                guard case .record(let vcpu, .check(let name, let actual, let expected, let passed)) = event else { return nil }
                return Check(vcpu: vcpu, name: name, actual: hex(actual), expected: hex(expected), passed: passed)
            })
        out.array(
            "checksums",
            result.checksums.lazy.map {
                Checksum(name: $0.name, gpa: hex($0.gpa), length: $0.length, guest: hex($0.guest), host: $0.host.map { hex($0) }, matches: $0.matches)
            })
        out.array(
            "conversions",
            result.conversions.lazy.map { vcpu, record in
                Conversion(
                    vcpu: vcpu, interface: record.interface.rawValue, form: record.form.description, transport: record.transport.rawValue,
                    start: hex(record.range.start), end: hex(record.range.upperBound), direction: record.direction.rawValue,
                    outcome: record.outcome.name, flipped: record.flipped.map(\.description), unchanged: record.unchanged.map(\.description),
                    seconds: record.seconds)
            })
        out.member("eventsNotKept", Dictionary(uniqueKeysWithValues: result.eventsNotKept.map { ($0.key.rawValue, $0.value) }))
        out.member("exitCodes", Dictionary(uniqueKeysWithValues: result.exitCodes.map { ("\($0.key)", $0.value) }))
        out.member("exits", result.exits)
        out.array("failures", result.failures)
        if let firmware = FirmwareRunLink(result, kernelHashes: kernelHashes) { out.member("firmware", firmware) }
        // A firmware volume's validations and acceptances against its RAM; null on kvm and for stubs.
        out.member("firmwareMemory", result.firmwareMemory.map(FirmwareMemory.init))
        out.member("image", result.image.name)
        out.member("layout", result.image.layout.rawValue)
        out.array("log", result.logLines)
        out.member("memslot", result.ramBacking.memslotCall.rawValue)
        out.member("passed", result.passed)
        out.array(
            "population",
            result.population.entries.lazy.map {
                Populated(
                    name: $0.range.name, start: hex($0.range.range.start), end: hex($0.range.range.end), kind: $0.range.kind.rawValue,
                    state: $0.range.state.rawValue, bytesWritten: $0.bytesWritten,
                    checksum: $0.bytesWritten > 0
                        ? result.population.plannedChecksum(gpa: $0.range.range.start, length: $0.range.range.size).map { hex($0) } : nil)
            })
        out.array(
            "rejected",
            events.lazy.compactMap { (event: RunEvent) -> Rejected? in
                guard case .rejected(let vcpu, let request) = event else { return nil }
                return Rejected(
                    vcpu: vcpu, interface: request.interface.rawValue, transport: request.transport.rawValue, request: request.request, answer: request.answer)
            })
        out.member("seconds", result.seconds)
        out.array(
            "terminations",
            result.stops.lazy.compactMap { vcpu, reason -> Termination? in
                guard case .terminationRequested(let termination) = reason else { return nil }
                switch termination {
                case .ghcb(let set, let code, let via):
                    return Termination(
                        vcpu: vcpu, platform: "ghcb", words: reason.description, reasonSet: set, reasonCode: code,
                        via: via.rawValue, errorCode: nil, gpa: nil, message: nil)
                case .tdxFatalError(let errorCode, let gpa, let message):
                    return Termination(
                        vcpu: vcpu, platform: "tdx", words: reason.description, reasonSet: nil, reasonCode: nil,
                        via: nil, errorCode: hex(errorCode), gpa: gpa.map { hex($0) }, message: message)
                }
            })
        out.member("transports", Dictionary(uniqueKeysWithValues: result.transports.map { ($0.key.rawValue, $0.value.rawValue) }))
        // Every PVALIDATE / TDG.MEM.PAGE.ACCEPT the host served, with the platform's answer.
        out.array(
            "validations",
            events.lazy.compactMap { (event: RunEvent) -> Validation? in
                guard case .validation(let vcpu, let record) = event else { return nil }
                return Validation(
                    vcpu: vcpu, interface: record.interface.rawValue, instruction: record.instruction.description, operation: record.operation.description,
                    start: hex(record.range.start), end: hex(record.range.upperBound), pageSize: record.pageSize,
                    result: record.result.description, changed: record.changed, transport: record.transport.rawValue)
            })
        // A firmware volume's milestones, in the order first reached, and where --until ended it.
        if result.image.isFirmwareVolume {
            out.member("milestones", result.milestones.map(\.rawValue))
            out.member("stoppedAtMilestone", result.milestoneStops.values.first?.rawValue)
        }
        // Instructions this host's KVM cannot execute, which the runner performed.
        out.array(
            "emulated",
            events.lazy.compactMap { (event: RunEvent) -> Emulated? in
                guard case .emulated(let vcpu, let instruction, let at) = event else { return nil }
                return Emulated(vcpu: vcpu, instruction: instruction, at: at)
            })
        out.array(
            "values",
            events.lazy.compactMap { (event: RunEvent) -> Value? in
                guard case .record(let vcpu, .value(let name, let value)) = event else { return nil }
                return Value(vcpu: vcpu, name: name, value: hex(value))
            })
        out.member("vcpus", result.vcpus)
        // The Enlighten version that ran it (`enlighten --version`).
        out.member("version", ToolVersion.current)
        out.close()
    }

    static func printHuman(_ result: RunResult, kernelHashes: SEVKernelHashes? = nil) {
        for event in result.events {
            switch event {
            case .conversion(let vcpu, let record):
                let kept =
                    record.unchanged.isEmpty ? "" : ", already \(record.direction.rawValue): \(record.unchanged.map(\.description).joined(separator: " "))"
                print(
                    "\(result.vcpus > 1 ? "[vcpu\(vcpu)] " : "")convert \(record.range) → \(record.direction.rawValue) via \(record.form) (\(record.transport.rawValue)): \(record.outcome.name)\(kept)"
                )
            case .validation(let vcpu, let record):
                print(
                    "\(result.vcpus > 1 ? "[vcpu\(vcpu)] " : "")\(record.instruction) \(record.operation) \(record.range) (\(record.pageSize >> 10) KiB): \(record.result)"
                )
            case .rejected(let vcpu, let request):
                print(
                    "\(result.vcpus > 1 ? "[vcpu\(vcpu)] " : "")refused \(request.request) via \(request.interface.rawValue) (\(request.transport.rawValue)): \(request.answer)"
                )
            default:
                break
            }
        }
        for comparison in result.checksums {
            print(
                "checksum \(comparison.name): guest \(hex(comparison.guest)), host \(comparison.host.map { hex($0) } ?? "-") \(comparison.matches ? "✓" : "✗")")
        }
        let summary = String(
            format: "%@ %@ (%@): %d vCPU, %d exits, %.1f ms", result.passed ? "PASS" : "FAIL",
            result.image.name, result.image.layout.rawValue, result.vcpus, result.exits, result.seconds * 1000)
        print(summary)
        print("  guest RAM: \(result.ramBacking.kind.rawValue) via \(result.ramBacking.memslotCall.rawValue) (\(result.ramBacking.reason))")
        for failure in result.failures { print("  ✗ \(failure)") }
        let link = FirmwareRunLink(result, kernelHashes: kernelHashes)
        if let link, let populated = link.snpLaunchDigestFromPopulation {
            print("  SNP launch pages: \(link.launchPages.map { "\($0.type) \($0.start)" }.joined(separator: ", "))")
            print(
                "  SNP launch digest of the pages populated: \(populated) \(link.snpDigestsAgree == true ? "✓ (= inspect)" : "✗ inspect computes \(link.snpLaunchDigest ?? "none")")"
            )
        }
        if let link, let populated = link.mrtdFromPopulation {
            print("  TDX MRTD of the pages populated: \(populated) \(link.mrtdsAgree == true ? "✓ (= inspect)" : "✗ inspect computes \(link.mrtd ?? "none")")")
        }
        if let memory = result.firmwareMemory {
            for line in memory.lines { print("  \(line)") }
        }
        if result.image.isFirmwareVolume {
            let reached = result.milestones.map(\.rawValue)
            print("  firmware milestones reached: \(reached.isEmpty ? "none" : reached.joined(separator: ", "))")
            for (vcpu, milestone) in result.milestoneStops.sorted(by: { $0.key < $1.key }) {
                print("  \(result.vcpus > 1 ? "vCPU \(vcpu) " : "")stopped at \(milestone.rawValue), as --until asked")
            }
        }
        let emulated = result.events.compactMap { (event: RunEvent) -> String? in
            if case .emulated(_, let instruction, _) = event { instruction } else { nil }
        }
        if !emulated.isEmpty {
            let counts = Dictionary(grouping: emulated, by: { $0 }).map { "\($0.key) ×\($0.value.count)" }.sorted()
            print("  emulated by the runner (this host's KVM cannot execute them): \(counts.joined(separator: ", "))")
        }
        if result.unservedNotLogged > 0 { print("  (\(result.unservedNotLogged) more accesses to unserved ports or MSRs, not logged)") }
        if result.droppedLogBytes > 0 { print("  (log limit reached: \(result.droppedLogBytes) bytes not kept)") }
        for (kind, count) in result.eventsNotKept.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            print("  (\(count) more \(kind.rawValue) events past --max-events, counted, not kept)")
        }
    }
}
