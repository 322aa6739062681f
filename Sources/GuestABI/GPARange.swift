/// A non-empty run of 4 KiB guest frames.
///
/// Held as frames rather than bytes because KVM accepts any `npages` whose frame
/// arithmetic does not wrap (x86.c, KVM_HC_MAP_GPA_RANGE), and such a range can be
/// longer than a 64-bit byte count can say. The invariant `firstFrame + pageCount`
/// does not overflow is established by every initializer, so `endFrame` is total.
public struct GPARange: Sendable, Hashable, CustomStringConvertible {
    public static let frameShift: UInt64 = 12
    public static let frameSize: UInt64 = 1 << frameShift

    /// The first frame number (GPA >> 12). Always below 2^52.
    public let firstFrame: UInt64
    /// How many 4 KiB frames; never zero.
    public let pageCount: UInt64

    /// A range starting at the page-aligned `start` and spanning `pageCount` frames.
    public init(start: UInt64, pageCount: UInt64) throws(GPARangeError) {
        guard start & (Self.frameSize - 1) == 0 else { throw .unalignedStart(start) }
        guard pageCount != 0 else { throw .empty }
        let first = start >> Self.frameShift
        guard !first.addingReportingOverflow(pageCount).overflow else {
            throw .wraps(start: start, pageCount: pageCount)
        }
        self.firstFrame = first
        self.pageCount = pageCount
    }

    /// For callers that established the invariant themselves (the codecs, after
    /// their own spec checks); checked in debug builds.
    init(validatedFirstFrame firstFrame: UInt64, pageCount: UInt64) {
        assert(pageCount != 0 && firstFrame < 1 << 52 && !firstFrame.addingReportingOverflow(pageCount).overflow)
        self.firstFrame = firstFrame
        self.pageCount = pageCount
    }

    /// A range starting at the page-aligned `start` spanning `byteCount` bytes, a
    /// non-zero multiple of 4 KiB that must not run past the top of the address space.
    public init(start: UInt64, byteCount: UInt64) throws(GPARangeError) {
        guard byteCount & (Self.frameSize - 1) == 0 else { throw .unalignedLength(byteCount) }
        guard byteCount != 0 else { throw .empty }
        guard !start.addingReportingOverflow(byteCount - 1).overflow else {
            throw .wraps(start: start, pageCount: byteCount >> Self.frameShift)
        }
        try self.init(start: start, pageCount: byteCount >> Self.frameShift)
    }

    /// The first guest-physical address of the range.
    public var start: UInt64 { firstFrame << Self.frameShift }

    /// One past the last frame of the range.
    public var endFrame: UInt64 { firstFrame + pageCount }

    /// The exclusive end address, or nil when it lies at or beyond 2^64.
    public var end: UInt64? {
        endFrame < (1 << (64 - Self.frameShift)) ? endFrame << Self.frameShift : nil
    }

    /// The inclusive last address, or nil when it lies beyond 2^64 - 1.
    public var lastAddress: UInt64? {
        let lastFrame = endFrame - 1
        return lastFrame < (1 << (64 - Self.frameShift))
            ? (lastFrame << Self.frameShift) | (Self.frameSize - 1) : nil
    }

    /// The length in bytes, or nil when it does not fit in 64 bits.
    public var byteCount: UInt64? {
        pageCount < (1 << (64 - Self.frameShift)) ? pageCount << Self.frameShift : nil
    }

    public func contains(frame: UInt64) -> Bool {
        frame >= firstFrame && frame < endFrame
    }

    public func contains(_ other: GPARange) -> Bool {
        other.firstFrame >= firstFrame && other.endFrame <= endFrame
    }

    public func overlaps(_ other: GPARange) -> Bool {
        other.firstFrame < endFrame && firstFrame < other.endFrame
    }

    public var description: String {
        let startHex = "0x" + String(start, radix: 16)
        return "[\(startHex), +\(pageCount) pages)"
    }
}

public enum GPARangeError: Error, Sendable, Hashable {
    case unalignedStart(UInt64)
    case unalignedLength(UInt64)
    case empty
    case wraps(start: UInt64, pageCount: UInt64)
}
