import HostRunner
import Payload

/// One entry of the conformance catalogue: a stub under GuestStubs/scenarios, the interfaces
/// it applies to, how to run it, and what must be observed — on the host side (the exact
/// event log) and on the guest side (what it read and the codes it got, as its records say).
public struct Scenario: Sendable {
    public let name: String
    /// The stub it runs (GuestStubs/scenarios/<stub>.asm); several scenarios may share one.
    public let stub: String
    /// What passing proves, in one sentence (README's scenario table says the same).
    public let proves: String
    /// What a failure means.
    public let failureMeans: String
    public let platforms: [ConversionPlatform]
    public let layout: Layout
    /// A UEFI firmware volume to run instead of a stub (the `ovmf-*` cases): Debian's
    /// OVMF.fd, found at run time (`FirmwareVolumeSource`); nil for the stub cases.
    public let firmware: FirmwareVolumeSource?
    /// Run options beyond the defaults (memory, vCPUs, injected retries, …).
    public let configure: @Sendable (inout RunOptions, ConversionPlatform) -> Void
    /// A reason to skip on this host and platform, or nil to run.
    public let skip: @Sendable (HostProbe, ConversionPlatform) -> String?
    public let expectations: @Sendable (ConversionPlatform) -> [Expectation]

    public init(
        name: String, stub: String? = nil, proves: String, failureMeans: String,
        platforms: [ConversionPlatform] = ConversionPlatform.allCases, layout: Layout = .direct64,
        firmware: FirmwareVolumeSource? = nil,
        configure: @escaping @Sendable (inout RunOptions, ConversionPlatform) -> Void = { _, _ in },
        skip: @escaping @Sendable (HostProbe, ConversionPlatform) -> String? = { _, _ in nil },
        expectations: @escaping @Sendable (ConversionPlatform) -> [Expectation]
    ) {
        self.name = name
        self.stub = stub ?? name
        self.proves = proves
        self.failureMeans = failureMeans
        self.platforms = platforms
        self.layout = layout
        self.firmware = firmware
        self.configure = configure
        self.skip = skip
        self.expectations = expectations
    }
}
