/// A copy of one guest GHCB page with a record of which bytes the host changed.
///
/// The trap transport reads the page out of guest memory once, decodes it, lets
/// the codecs edit this copy, and writes back only `changedRanges`, so a request
/// costs one read and a few small writes. Change tracking is per aligned quadword:
/// every GHCB field is quadword aligned, and a PSC descriptor that is not is still
/// covered because both quadwords it touches are marked.
public struct GHCBPage: Sendable {
    public private(set) var bytes: [UInt8]
    private var changedQuadwords = SIMD8<UInt64>(repeating: 0)

    /// A zero-filled page, as a guest would start from.
    public init() {
        bytes = [UInt8](repeating: 0, count: GHCBLayout.pageSize)
    }

    public init(bytes: [UInt8]) throws(GHCBPageError) {
        guard bytes.count == GHCBLayout.pageSize else { throw .wrongSize(bytes.count) }
        self.bytes = bytes
    }

    public init(copying buffer: UnsafeRawBufferPointer) throws(GHCBPageError) {
        guard buffer.count == GHCBLayout.pageSize else { throw .wrongSize(buffer.count) }
        self.bytes = [UInt8](buffer)
    }

    /// Reads the page again into this copy's storage, forgetting earlier changes: a host
    /// that keeps one `GHCBPage` per vCPU serves every VMGEXIT without allocating.
    public mutating func reload(copying buffer: UnsafeRawBufferPointer) throws(GHCBPageError) {
        guard buffer.count == GHCBLayout.pageSize else { throw .wrongSize(buffer.count) }
        bytes.withUnsafeMutableBytes { $0.copyMemory(from: buffer) }
        markClean()
    }

    // MARK: Raw access

    /// Reads a little-endian integer at any byte offset (PSC buffers need not be aligned).
    public func load<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, at offset: Int) -> T {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= bytes.count, "GHCB access out of page")
        return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }

    /// Writes a little-endian integer at any byte offset and records the change.
    public mutating func store<T: FixedWidthInteger & UnsignedInteger>(_ value: T, at offset: Int) {
        let width = MemoryLayout<T>.size
        precondition(offset >= 0 && offset + width <= bytes.count, "GHCB access out of page")
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self) }
        markChanged(offset..<(offset + width))
    }

    // Non-generic twins of the two hot accessors: unspecialized generics cost a
    // metadata lookup per call in unoptimized builds.

    public func load(_: UInt64.Type, at offset: Int) -> UInt64 {
        precondition(offset >= 0 && offset + 8 <= bytes.count, "GHCB access out of page")
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
    }

    public mutating func store(_ value: UInt64, at offset: Int) {
        precondition(offset >= 0 && offset + 8 <= bytes.count, "GHCB access out of page")
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self) }
        markChanged(offset..<(offset + 8))
    }

    // MARK: Fields

    public subscript(field: GHCBField) -> UInt64 {
        get { field.width == 1 ? UInt64(load(UInt8.self, at: field.offset)) : load(UInt64.self, at: field.offset) }
        set {
            if field.width == 1 {
                store(UInt8(truncatingIfNeeded: newValue), at: field.offset)
            } else {
                store(newValue, at: field.offset)
            }
        }
    }

    public func isValid(_ field: GHCBField) -> Bool {
        let byte = load(UInt8.self, at: GHCBLayout.validBitmapOffset + field.validBit / 8)
        return byte & (1 << UInt8(field.validBit % 8)) != 0
    }

    public mutating func setValid(_ field: GHCBField, _ valid: Bool = true) {
        let offset = GHCBLayout.validBitmapOffset + field.validBit / 8
        var byte = load(UInt8.self, at: offset)
        let bit = UInt8(1) << UInt8(field.validBit % 8)
        byte = valid ? byte | bit : byte & ~bit
        store(byte, at: offset)
    }

    /// Writes a field and marks it valid, as a guest (or KVM on the way back) does.
    public mutating func set(_ field: GHCBField, _ value: UInt64) {
        self[field] = value
        setValid(field)
    }

    public mutating func clearValidBitmap() {
        for index in 0..<(GHCBLayout.validBitmapLength / 8) {
            store(UInt64(0), at: GHCBLayout.validBitmapOffset + 8 * index)
        }
    }

    public var protocolVersion: UInt16 {
        get { load(UInt16.self, at: GHCBLayout.protocolVersionOffset) }
        set { store(newValue, at: GHCBLayout.protocolVersionOffset) }
    }

    public var usage: UInt32 {
        get { load(UInt32.self, at: GHCBLayout.usageOffset) }
        set { store(newValue, at: GHCBLayout.usageOffset) }
    }

    // MARK: Change tracking

    /// The byte ranges changed since the page was read (or since `markClean`),
    /// coalesced and in ascending order.
    public var changedRanges: [Range<Int>] {
        var ranges: [Range<Int>] = []
        forEachChangedRange { ranges.append($0) }
        return ranges
    }

    /// Calls `body` with each of `changedRanges`, in order, without building the list: a
    /// host writes back a handful of quadwords per VMGEXIT, so only the set bits are visited.
    public func forEachChangedRange(_ body: (Range<Int>) -> Void) {
        var run: Range<Int>?
        for word in 0..<changedQuadwords.scalarCount {
            var bits = changedQuadwords[word]
            while bits != 0 {
                let quadword = word * 64 + bits.trailingZeroBitCount
                bits &= bits - 1
                if let current = run, current.upperBound == quadword {
                    run = current.lowerBound..<(quadword + 1)
                } else {
                    if let current = run { body((current.lowerBound * 8)..<(current.upperBound * 8)) }
                    run = quadword..<(quadword + 1)
                }
            }
        }
        if let current = run { body((current.lowerBound * 8)..<(current.upperBound * 8)) }
    }

    public var hasChanges: Bool { changedQuadwords != SIMD8(repeating: 0) }

    public mutating func markClean() {
        changedQuadwords = SIMD8(repeating: 0)
    }

    private mutating func markChanged(_ range: Range<Int>) {
        for quadword in (range.lowerBound / 8)...((range.upperBound - 1) / 8) {
            changedQuadwords[quadword / 64] |= 1 << UInt64(quadword % 64)
        }
    }
}

public enum GHCBPageError: Error, Sendable, Hashable {
    case wrongSize(Int)
}
