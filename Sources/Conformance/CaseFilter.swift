#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `--filter`: scenario names, each exact or a shell glob (`hostile-*`, `*range*`), matched
/// case-insensitively; a scenario runs when any pattern matches it. No pattern: every scenario.
public struct CaseFilter: Sendable, Equatable {
    public let patterns: [String]

    public init(_ patterns: [String] = []) { self.patterns = patterns }

    public func matches(_ name: String) -> Bool {
        patterns.isEmpty || patterns.contains { Self.glob($0, name) }
    }

    /// The patterns that match none of `names`: each is a typo the user should hear about.
    public func unmatched(in names: [String]) -> [String] {
        patterns.filter { pattern in !names.contains { Self.glob(pattern, $0) } }
    }

    /// fnmatch(3) with no flags: `*`, `?` and `[…]`; without them, exact equality.
    private static func glob(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern.lowercased(), name.lowercased(), 0) == 0
    }
}
