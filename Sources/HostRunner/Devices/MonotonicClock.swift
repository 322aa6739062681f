#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Nanoseconds from a clock that never goes back. Devices take one so tests can set time.
public struct MonotonicClock: Sendable {
    public let nanoseconds: @Sendable () -> UInt64

    public init(nanoseconds: @escaping @Sendable () -> UInt64) { self.nanoseconds = nanoseconds }

    /// CLOCK_MONOTONIC.
    public static let system = MonotonicClock {
        var now = timespec()
        // SAFETY: clock_gettime writes one timespec; CLOCK_MONOTONIC always exists on Linux.
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}
