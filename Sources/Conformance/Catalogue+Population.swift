import GuestPhysical
import HostRunner
import Payload

// Pre-population: GuestStubs/scenarios/payload-integrity.asm.
extension Catalogue {
    /// The value en_platform returns for each platform (GuestStubs/abi/interfaces.inc).
    static func platformID(_ platform: ConversionPlatform) -> UInt64 {
        switch platform {
        case .kvm: 1
        case .sevSNP: 2
        case .tdx: 3
        }
    }

    /// One payload of payload-integrity.asm: a 4 KiB group of 512 little-endian qwords
    /// `tag + offset`, checksummed whole by the guest under the plan range's own name.
    struct PlannedPayload: Sendable {
        let name: String
        let kind: PlanRange.Kind
        let tag: UInt64
        static let size: UInt64 = 4096

        /// The bytes the stub declares, rebuilt from its definition rather than read from the
        /// image, and their CRC32C: what the guest must read and report.
        var expectedChecksum: UInt32 {
            let bytes = stride(from: UInt64(0), to: Self.size, by: 8).flatMap { offset in
                withUnsafeBytes(of: (tag + offset).littleEndian, Array.init)
            }
            return CRC32C.checksum(bytes)
        }
    }

    static let payloads = [
        PlannedPayload(name: "payload.measured", kind: .measured, tag: 0x4D45_4153_0000_0000), // "MEAS"
        PlannedPayload(name: "payload.unmeasured", kind: .unmeasured, tag: 0x554E_4D45_0000_0000), // "UNME"
    ]

    /// The guest reported exactly one checksum per payload, in order, each over the whole plan
    /// range of that name and kind, with the CRC32C of the bytes the stub declares.
    static let checksumsAreThePayloads = Expectation.custom("checksums") { result in
        let reported = result.checksums
        guard reported.map(\.name) == payloads.map(\.name) else {
            return "expected the checksums \(payloads.map(\.name)), the guest reported \(reported.map(\.name))"
        }
        for (payload, checksum) in zip(payloads, reported) {
            guard let planned = result.image.plan.ranges.first(where: { $0.name == payload.name }) else {
                return "the plan has no range '\(payload.name)'"
            }
            if planned.kind != payload.kind || planned.state != .private {
                return "plan range '\(payload.name)' is \(planned.kind.rawValue) \(planned.state.rawValue), expected \(payload.kind.rawValue) private"
            }
            let covered = GPARange(start: checksum.gpa, end: checksum.gpa &+ checksum.length)
            if covered != planned.range || planned.range.size != PlannedPayload.size {
                return "checksum '\(payload.name)' covers \(covered), the plan range is \(planned.range) (expected \(hex(PlannedPayload.size)) bytes)"
            }
            if checksum.guest != payload.expectedChecksum {
                return "checksum '\(payload.name)': the guest read \(hex(checksum.guest)), the stub's bytes give \(hex(payload.expectedChecksum))"
            }
            if checksum.host != payload.expectedChecksum {
                return
                    "checksum '\(payload.name)': the host planned \(checksum.host.map { hex($0) } ?? "nothing"), the stub's bytes give \(hex(payload.expectedChecksum))"
            }
        }
        return nil
    }

    static func payloadIntegrity(layout: Layout) -> Scenario {
        Scenario(
            name: layout == .direct64 ? "payload-integrity" : "payload-integrity-fw",
            stub: "payload-integrity",
            proves:
                "measured and unmeasured payloads pre-populated into guest RAM (guest_memfd or its memfd stand-in) before the private conversion are exactly what the guest reads (its CRC32C of each whole payload equals the host's and the stub's), and zero ranges read as zero"
                + (layout == .firmware ? ", in the firmware layout (payloads in the ROM, reached through the reset vector)" : ""),
            failureMeans: "population wrote the wrong bytes, to the wrong place, or not before the guest ran; or a zero range was not zero",
            layout: layout,
            expectations: { platform in
                [
                    .guestPasses,
                    .conversions([]),
                    .value("payload.platform", equals: platformID(platform)),
                    checksumsAreThePayloads,
                    .check("payload.measured.first", equals: 0x4D45_4153_0000_0000),
                    .check("payload.measured.last", equals: 0x4D45_4153_0000_0FF8),
                    .check("payload.unmeasured.first", equals: 0x554E_4D45_0000_0000),
                    .check("payload.unmeasured.last", equals: 0x554E_4D45_0000_0FF8),
                    .check("payload.zero.nonzero", equals: 0),
                    .check("payload.zero-area.nonzero", equals: 0),
                    .finalState(GPARange(start: 0x40_0000, end: 0x60_0000), .private),
                ]
            })
    }
}
