/// How to run an image. Defaults are what `enlighten run` uses without options.
public struct RunOptions: Sendable {
    /// Guest RAM in bytes, from GPA 0 (guest_memfd-backed).
    public var memory: UInt64 = 64 << 20
    public var vcpus: Int = 1
    /// Wall-clock limit for the whole run.
    public var timeout: Double = 10
    /// Stop after this many malformed report records.
    public var malformedRecordLimit = 64
    /// Keep at most this much log text.
    public var logLimit = 1 << 20

    public init() {}

    public static let maximumVCPUs = 16
}
