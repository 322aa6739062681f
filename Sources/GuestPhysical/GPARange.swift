/// A half-open range of guest-physical addresses, `[start, upperBound)`: the one range type
/// of the project, from the interface decoders through the conversion service, the page-state
/// model and the population plans to the reports.
///
/// Exact for every range a guest can name. KVM_HC_MAP_GPA_RANGE accepts any `npages` whose
/// *frame* arithmetic does not wrap (x86.c checks `gpa_to_gfn(gpa) + npages <= gpa_to_gfn(gpa)`),
/// so a valid request can span up to 2^64 − 1 frames, far past 2^64 bytes; a TDVMCALL MapGPA
/// names a 64-bit GPA and a 64-bit size. The end is therefore held as a 128-bit byte address:
/// no conversion between frames and bytes truncates, containment checks see the true range,
/// and a range past the top of the address space prints as what the guest asked for.
public struct GPARange: Sendable, Hashable, CustomStringConvertible {
    public static let frameShift: UInt64 = 12
    public static let frameSize: UInt64 = 1 << frameShift
    /// The first byte address past the 64-bit guest-physical address space.
    public static let addressSpaceEnd: UInt128 = 1 << 64

    /// The first address of the range.
    public let start: UInt64
    /// The exclusive end, exact; beyond `addressSpaceEnd` only for guest-named ranges.
    /// A value not above `start` makes the range empty.
    public let upperBound: UInt128

    /// `[start, end)` in bytes; `end < start` is kept as given (an empty range that error
    /// messages can still print, e.g. a reversed plan entry).
    public init(start: UInt64, end: UInt64) {
        self.start = start
        self.upperBound = UInt128(end)
    }

    /// `[start, start + byteCount)` in exact arithmetic, whatever the sum.
    public init(start: UInt64, exactByteCount byteCount: UInt64) {
        self.start = start
        self.upperBound = UInt128(start) + UInt128(byteCount)
    }

    /// `pageCount` 4 KiB frames from `firstFrame`, in exact arithmetic: frame numbers up to
    /// 2^64 − 1 are representable (their byte addresses are not all 64-bit, which the
    /// bounds below carry exactly).
    public init(firstFrame: UInt64, pageCount: UInt64) {
        // A frame number above 2^52 has no 64-bit byte address; its start saturates at the
        // top page and the true extent stays in upperBound (only the decoders' own refusal
        // paths construct such a range, and they refuse it).
        let exactStart = UInt128(firstFrame) << Self.frameShift
        self.start = UInt64(clamping: exactStart)
        self.upperBound = exactStart + (UInt128(pageCount) << Self.frameShift)
    }

    /// A range starting at the page-aligned `start` spanning `pageCount` frames, with the
    /// checks KVM applies to KVM_HC_MAP_GPA_RANGE: aligned, non-empty, frame arithmetic
    /// that does not wrap.
    public init(start: UInt64, pageCount: UInt64) throws(GPARangeError) {
        guard start & (Self.frameSize - 1) == 0 else { throw .unalignedStart(start) }
        guard pageCount != 0 else { throw .empty }
        guard !(start >> Self.frameShift).addingReportingOverflow(pageCount).overflow else {
            throw .wraps(start: start, pageCount: pageCount)
        }
        self.init(firstFrame: start >> Self.frameShift, pageCount: pageCount)
    }

    /// A range starting at the page-aligned `start` spanning `byteCount` bytes, a non-zero
    /// multiple of 4 KiB that does not run past the top of the address space.
    public init(start: UInt64, byteCount: UInt64) throws(GPARangeError) {
        guard byteCount & (Self.frameSize - 1) == 0 else { throw .unalignedLength(byteCount) }
        guard byteCount != 0 else { throw .empty }
        guard !start.addingReportingOverflow(byteCount - 1).overflow else {
            throw .wraps(start: start, pageCount: byteCount >> Self.frameShift)
        }
        try self.init(start: start, pageCount: byteCount >> Self.frameShift)
    }

    public var isEmpty: Bool { upperBound <= UInt128(start) }

    /// Whether the whole range has 64-bit addresses (every host-made range does).
    public var isWithinAddressSpace: Bool { upperBound <= Self.addressSpaceEnd }

    /// The exclusive end as a 64-bit address. Exact for ranges within the address space;
    /// saturated at 2^64 − 1 for a guest-named range that runs past it, so check
    /// `isWithinAddressSpace` (or containment in guest memory) before relying on it.
    public var end: UInt64 { UInt64(clamping: upperBound) }

    /// The length in bytes, exact.
    public var byteCount: UInt128 { isEmpty ? 0 : upperBound - UInt128(start) }

    /// The length in bytes for ranges within the address space (saturated otherwise).
    public var size: UInt64 { UInt64(clamping: byteCount) }

    /// Whether both bounds are 4 KiB aligned.
    public var isPageAligned: Bool {
        start & (Self.frameSize - 1) == 0 && upperBound & UInt128(Self.frameSize - 1) == 0
    }

    /// The first frame (start >> 12).
    public var firstFrame: UInt64 { start >> Self.frameShift }

    /// One past the last frame the range touches, exact (a frame number can exceed 64 bits
    /// only for ranges no guest can name).
    public var endFrame: UInt128 { (upperBound + UInt128(Self.frameSize - 1)) >> Self.frameShift }

    /// How many frames the range touches.
    public var pageCount: UInt128 { isEmpty ? 0 : endFrame - UInt128(firstFrame) }

    public func contains(_ address: UInt64) -> Bool {
        address >= start && UInt128(address) < upperBound
    }

    public func contains(frame: UInt64) -> Bool {
        let address = UInt128(frame) << Self.frameShift
        return address >= UInt128(start) && address < upperBound
    }

    /// Whether every address of `other` lies in this range (an empty `other` lies anywhere).
    public func contains(_ other: GPARange) -> Bool {
        other.isEmpty || (other.start >= start && other.upperBound <= upperBound)
    }

    public func overlaps(_ other: GPARange) -> Bool {
        !isEmpty && !other.isEmpty && UInt128(other.start) < upperBound && UInt128(start) < other.upperBound
    }

    /// The overlap of two ranges, or nil when they do not overlap.
    public func clamped(to other: GPARange) -> GPARange? {
        guard overlaps(other) else { return nil }
        return GPARange(exactStart: max(start, other.start), upperBound: min(upperBound, other.upperBound))
    }

    private init(exactStart: UInt64, upperBound: UInt128) {
        self.start = exactStart
        self.upperBound = upperBound
    }

    /// `[0x…, 0x…)`, the end exact even past 2^64.
    public var description: String { "[\(hex(start)), \(hex(upperBound)))" }
}

public enum GPARangeError: Error, Sendable, Hashable {
    case unalignedStart(UInt64)
    case unalignedLength(UInt64)
    case empty
    case wraps(start: UInt64, pageCount: UInt64)
}

extension GPARange: Codable {
    private enum CodingKeys: String, CodingKey { case start, end }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(start: try container.decode(UInt64.self, forKey: .start), end: try container.decode(UInt64.self, forKey: .end))
    }

    /// Only host-made ranges (plans, population) are encoded; they lie within the address space.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(start, forKey: .start)
        try container.encode(end, forKey: .end)
    }
}
