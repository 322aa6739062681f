import Foundation

/// A small deterministic generator (SplitMix64) for the fuzz tests of every test target, so a
/// failing run can be replayed from its printed seed.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `numerator` / `denominator`.
    public mutating func chance(_ numerator: UInt64, in denominator: UInt64) -> Bool {
        UInt64.random(in: 0..<denominator, using: &self) < numerator
    }

    /// The seed from the environment variable `name` if set (decimal or 0x-hex), else `fallback`.
    public static func seed(fromEnvironment name: String, default fallback: UInt64) -> UInt64 {
        guard let text = ProcessInfo.processInfo.environment[name] else { return fallback }
        if text.hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) ?? fallback }
        return UInt64(text) ?? fallback
    }
}
