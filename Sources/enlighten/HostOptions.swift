import ArgumentParser
import Foundation
import HostRunner
import KVM

/// Where guest RAM lives and which kernel the host is run as: the options `probe`, `run`,
/// `conformance` and `bench` share, each with its environment variable as the default.
struct HostOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The file guest RAM lives in: auto (guest_memfd where a default VM can have it, else a memfd), guest_memfd (refused where the kernel lacks it) or memfd (the stand-in, on any host). Default: $ENLIGHTEN_BACKING, else auto.",
            valueName: "auto|guest_memfd|memfd"))
    var backing: BackingChoice?

    @Option(
        name: .customLong("host-profile"),
        help: ArgumentHelp(
            "Run as if this host's kernel were another: host (as it is), linux-5.15, linux-6.1, linux-6.8 or linux-6.18. A profile only takes capabilities away (docs/host-support.md). Default: $ENLIGHTEN_HOST_PROFILE, else host.",
            valueName: "name"))
    var hostProfile: String?

    @Option(
        name: .customLong("mask"),
        help: ArgumentHelp(
            "Also take this capability away: \(HostProfile.Capability.allCases.map(\.rawValue).joined(separator: ", ")). Repeat, or comma-separate. Default: $ENLIGHTEN_MASK.",
            valueName: "capability"))
    var mask: [String] = []

    enum BackingChoice: String, ExpressibleByArgument, CaseIterable {
        case auto
        case guestMemfd = "guest_memfd"
        case memfd
        var kind: RAMBacking.Kind? {
            switch self {
            case .auto: nil
            case .guestMemfd: .guestMemfd
            case .memfd: .memfd
            }
        }
    }

    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The backing asked for by option or ENLIGHTEN_BACKING (nil: the probe's choice).
    func requestedBacking() throws -> RAMBacking.Kind? {
        if let backing { return backing.kind }
        guard let text = environment["ENLIGHTEN_BACKING"], !text.isEmpty else { return nil }
        guard let choice = BackingChoice(rawValue: text) else {
            throw fail("ENLIGHTEN_BACKING='\(text)': choose auto, guest_memfd or memfd", .inputError)
        }
        return choice.kind
    }

    /// The profile asked for by options, else by ENLIGHTEN_HOST_PROFILE / ENLIGHTEN_MASK.
    func profile() throws -> HostProfile {
        do {
            return try HostProfile.resolve(
                name: hostProfile ?? environment["ENLIGHTEN_HOST_PROFILE"],
                masking: mask.isEmpty ? environment["ENLIGHTEN_MASK"].map { [$0] } ?? [] : mask)
        } catch {
            throw fail(error, .inputError)
        }
    }

    /// Probes `system` under the profile, and checks the backing asked for is possible here:
    /// guest_memfd where the kernel lacks it is a usage error (exit 2) before any VM is made.
    func probe(_ system: KVMSystem) throws -> (probe: HostProbe, backing: RAMBacking) {
        let profile = try profile()
        let requested = try requestedBacking()
        let probe: HostProbe
        do { probe = try HostProbe.run(system: system, profile: profile) } catch {
            throw fail(RunError.kvm(error), .hostUnavailable)
        }
        do { return (probe, try probe.backing(requested: requested)) } catch { throw fail(error, .inputError) }
    }
}
