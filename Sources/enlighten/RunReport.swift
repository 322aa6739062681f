import Foundation
import HostRunner
import Payload

/// `run --json`: the whole result, in a shape that scripts can rely on.
struct RunReport: Encodable {
    struct Check: Encodable { let vcpu: Int, name: String, actual: String, expected: String, passed: Bool }
    struct Value: Encodable { let vcpu: Int, name: String, value: String }
    struct Checksum: Encodable { let name: String, gpa: String, length: UInt64, guest: String, host: String?, matches: Bool }
    struct Populated: Encodable { let name: String, start: String, end: String, kind: String, state: String, bytesWritten: UInt64, checksum: String? }

    let image: String
    let layout: String
    let passed: Bool
    let seconds: Double
    let vcpus: Int
    let exits: Int
    let exitCodes: [String: UInt32]
    let failures: [String]
    let log: [String]
    let checks: [Check]
    let values: [Value]
    let checksums: [Checksum]
    let population: [Populated]

    init(_ result: RunResult) {
        image = result.image.name
        layout = result.image.layout.rawValue
        passed = result.passed
        seconds = result.seconds
        vcpus = result.vcpus
        exits = result.exits
        exitCodes = Dictionary(uniqueKeysWithValues: result.exitCodes.map { ("\($0.key)", $0.value) })
        failures = result.failures
        log = result.logLines
        checks = result.events.compactMap {
            guard case .record(let vcpu, .check(let name, let actual, let expected, let passed)) = $0 else { return nil }
            return Check(vcpu: vcpu, name: name, actual: hex(actual), expected: hex(expected), passed: passed)
        }
        values = result.events.compactMap {
            guard case .record(let vcpu, .value(let name, let value)) = $0 else { return nil }
            return Value(vcpu: vcpu, name: name, value: hex(value))
        }
        checksums = result.checksums.map {
            Checksum(name: $0.name, gpa: hex($0.gpa), length: $0.length, guest: hex($0.guest), host: $0.host.map { hex($0) }, matches: $0.matches)
        }
        population = result.population.entries.map {
            Populated(name: $0.range.name, start: hex($0.range.range.start), end: hex($0.range.range.end), kind: $0.range.kind.rawValue,
                      state: $0.range.state.rawValue, bytesWritten: $0.bytesWritten,
                      checksum: $0.bytesWritten > 0 ? result.population.plannedChecksum(gpa: $0.range.range.start, length: $0.range.range.size).map { hex($0) } : nil)
        }
    }

    static func printHuman(_ result: RunResult) {
        for comparison in result.checksums {
            print("checksum \(comparison.name): guest \(hex(comparison.guest)), host \(comparison.host.map { hex($0) } ?? "-") \(comparison.matches ? "✓" : "✗")")
        }
        let summary = String(format: "%@ %@ (%@): %d vCPU, %d exits, %.1f ms", result.passed ? "PASS" : "FAIL",
                             result.image.name, result.image.layout.rawValue, result.vcpus, result.exits, result.seconds * 1000)
        print(summary)
        for failure in result.failures { print("  ✗ \(failure)") }
        if result.droppedLogBytes > 0 { print("  (log limit reached: \(result.droppedLogBytes) bytes not kept)") }
    }
}
