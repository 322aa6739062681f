import GuestPhysical
import HostRunner

// Two vCPUs: GuestStubs/scenarios/concurrent-disjoint.asm and concurrent-same.asm.
extension Catalogue {
    static let concurrentVCPUs = 2
    static let concurrentArea = GPARange(start: 0x40_0000, end: 0x60_0000)

    /// concurrent-disjoint.asm: vCPU n owns [4 MiB + n × 64 KiB, + 64 KiB).
    static func disjointRange(vcpu: Int) -> GPARange {
        let start = concurrentArea.start + UInt64(vcpu) * 0x1_0000
        return GPARange(start: start, end: start + 0x1_0000)
    }

    /// Every vCPU sent VALUE `name` once, equal to `expected` (`.value` reads one of them).
    static func valueOnEveryVCPU(_ name: String, equals expected: UInt64) -> Expectation {
        .custom("VALUE \(name) on every vCPU") { result in
            for vcpu in 0..<result.vcpus {
                let sent = result.events.compactMap { event -> UInt64? in
                    guard case .record(vcpu, .value(name, let value)) = event else { return nil }
                    return value
                }
                if sent != [expected] {
                    return
                        "vCPU \(vcpu) sent VALUE '\(name)' \(sent.isEmpty ? "never" : sent.map { hex($0) }.joined(separator: ", ")), expected \(hex(expected)) once"
                }
            }
            return nil
        }
    }

    /// On SNP every vCPU registers a GHCB of its own (the GHCB MSR and the registered GHCB are
    /// per vCPU): vCPU n's is `ghcb_page` + n × 4 KiB (GuestStubs/abi/ghcb.asm).
    static let perVCPUGHCBs = Expectation.custom("per-vCPU GHCBs") { result in
        guard let base = result.image.symbols.address(of: "ghcb_page") else { return "the image has no ghcb_page symbol" }
        for vcpu in 0..<result.vcpus {
            let registered = result.events.compactMap { event -> ServedRequest? in
                guard case .served(vcpu, .sevSNP, let request, _) = event, case .registerGHCB = request else { return nil }
                return request
            }
            let expected = ServedRequest.registerGHCB(gpa: base + UInt64(vcpu) * 0x1000)
            if registered != [expected] {
                return
                    "vCPU \(vcpu) registered \(registered.isEmpty ? "no GHCB" : registered.map(\.description).joined(separator: ", ")), expected once: \(expected)"
            }
        }
        return nil
    }

    static let concurrentDisjoint = Scenario(
        name: "concurrent-disjoint",
        proves:
            "two vCPUs converting their own neighbouring 64 KiB ranges at the same time each get exactly their own conversions, logged per vCPU, and only their own content is destroyed; on SNP each vCPU registered a GHCB of its own",
        failureMeans: "conversions on one vCPU leak into or lose another's, the service is not safe under concurrent vCPUs, or (SNP) the vCPUs share a GHCB",
        configure: { options, _ in options.vcpus = concurrentVCPUs },
        expectations: { platform in
            var expectations: [Expectation] = [.guestPasses]
            for vcpu in 0..<concurrentVCPUs {
                let range = disjointRange(vcpu: vcpu)
                expectations.append(
                    .conversions(
                        [
                            ExpectedConversion(range.start, range.end, to: .shared, form: form(platform)),
                            ExpectedConversion(range.start, range.end, to: .private, form: form(platform)),
                        ], vcpu: vcpu))
            }
            expectations.append(valueOnEveryVCPU("disjoint.barrier", equals: 1))
            expectations += [.finalState(concurrentArea, .private), merged(concurrentArea)]
            if platform == .sevSNP { expectations.append(perVCPUGHCBs) }
            return expectations
        })

    /// concurrent-same.asm: both vCPUs convert [5 MiB, 5 MiB + 64 KiB).
    static let sameRange = GPARange(start: 0x50_0000, end: 0x51_0000)

    /// Both vCPUs asked shared then private for `sameRange`, each request succeeded, and the
    /// flips are consistent with a serial order of the four requests: each request flipped
    /// the whole range or nothing, at least one flipped it to shared (it starts private), and
    /// as many flipped it back (it ends private). Which vCPU flipped depends on timing, so it
    /// is not expected.
    static func sameRangeRace(_ platform: ConversionPlatform) -> Expectation {
        .custom("same-range race") { result in
            var flips: [PageState: Int] = [:]
            for vcpu in 0..<concurrentVCPUs {
                let records = result.conversions.filter { $0.vcpu == vcpu }.map(\.record)
                let expected = [PageState.shared, .private].map {
                    ExpectedConversion(sameRange.start, sameRange.end, to: $0, form: form(platform))
                }
                let asRequested =
                    records.count == expected.count
                    && zip(expected, records).allSatisfy { want, record in
                        record.range == want.range && record.direction == want.direction && record.form == want.form && record.outcome == want.outcome
                    }
                if !asRequested {
                    return "vCPU \(vcpu): expected \(expected.map(\.description)), the host served \(records.map(ExpectedConversion.describe))"
                }
                for record in records {
                    switch (record.flipped, record.unchanged) {
                    case ([sameRange], []): flips[record.direction, default: 0] += 1
                    case ([], [sameRange]): break
                    default:
                        return
                            "vCPU \(vcpu): \(record.range) → \(record.direction.rawValue) flipped \(record.flipped) and kept \(record.unchanged); expected all or nothing"
                    }
                }
            }
            let toShared = flips[.shared, default: 0], toPrivate = flips[.private, default: 0]
            if toShared < 1 || toShared != toPrivate {
                return "\(toShared) flips to shared and \(toPrivate) to private: no serial order of the requests gives that"
            }
            return nil
        }
    }

    static let concurrentSame = Scenario(
        name: "concurrent-same",
        proves:
            "two vCPUs converting the same 64 KiB to shared and back at the same time all succeed, every request flips all of the range or none of it, the flips fit a serial order of the four requests, content written before the race is gone, and the range ends private",
        failureMeans: "concurrent requests for one range race inside the host (partial flips, lost updates, errors), or (SNP) the vCPUs share a GHCB",
        configure: { options, _ in options.vcpus = concurrentVCPUs },
        expectations: { platform in
            var expectations: [Expectation] = [
                .guestPasses,
                sameRangeRace(platform),
                valueOnEveryVCPU("same.barrier.start", equals: 1),
                valueOnEveryVCPU("same.barrier.end", equals: 1),
                .finalState(concurrentArea, .private),
                merged(concurrentArea),
            ]
            if platform == .sevSNP { expectations.append(perVCPUGHCBs) }
            return expectations
        })
}
