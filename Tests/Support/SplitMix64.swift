import Foundation

/// A small deterministic generator (SplitMix64) for the fuzz tests of every test target, so a
/// failing run can be replayed from its printed seed.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
        self.seed = seed
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

    /// A generator for one fuzz test: seeded from `ENLIGHTEN_FUZZ_SEED` (decimal or 0x-hex)
    /// when set, to replay a failure, else from the system's random source, so every run
    /// tries new cases. The seed is printed either way; a failure's message should carry
    /// `seed` too.
    public static func fresh(for test: String, environment name: String = "ENLIGHTEN_FUZZ_SEED") -> SplitMix64 {
        let seed = Self.seed(fromEnvironment: name, default: UInt64.random(in: .min ... .max))
        print("fuzz seed for \(test): 0x\(String(seed, radix: 16)) (replay with \(name)=0x\(String(seed, radix: 16)))")
        return SplitMix64(seed: seed)
    }

    /// The seed this generator started from.
    public private(set) var seed: UInt64 = 0

    /// The seed from the environment variable `name` if set (decimal or 0x-hex), else `fallback`.
    public static func seed(fromEnvironment name: String, default fallback: UInt64) -> UInt64 {
        ProcessInfo.processInfo.environment[name].flatMap(parse) ?? fallback
    }

    private static func parse(_ text: String) -> UInt64? {
        text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }
}
