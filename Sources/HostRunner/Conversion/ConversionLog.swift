import GuestABI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs a request through the service and records it, timed.
enum ConversionLog {
    static func convert(
        _ request: ConversionRequest, transport: Transport, service: ConversionService, vcpu: Int, events: inout [RunEvent],
        as implicit: (platform: ConversionPlatform, form: ConversionForm)? = nil
    ) -> ConversionOutcome {
        let started = monotonicNanoseconds()
        let result = service.convert(request)
        let elapsed = monotonicNanoseconds() &- started
        events.append(
            .conversion(
                vcpu: vcpu,
                ConversionRecord(
                    interface: implicit?.platform ?? request.origin.platform, form: implicit?.form ?? .request(request.origin), transport: transport,
                    range: request.range, direction: request.direction == .toPrivate ? .private : .shared,
                    pageSize: request.pageSize.byteCount, outcome: result.outcome,
                    flipped: result.change.flipped, unchanged: result.change.unchanged,
                    seconds: Double(elapsed) / 1e9)))
        return result.outcome
    }

    /// CLOCK_MONOTONIC in nanoseconds: every request is timed, and ContinuousClock's Duration
    /// arithmetic (128-bit attoseconds) costs more than the clock read itself.
    private static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}
