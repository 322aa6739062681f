/// Bounds-checked little-endian access to image bytes. Every read returns nil instead of
/// trapping, so a malformed image can never crash a parser.
extension Array where Element == UInt8 {
    public func readLE<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, at offset: Int) -> T? {
        let width = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - width else { return nil }
        var value: T = 0
        for index in 0..<width {
            value |= T(self[offset + index]) << (8 * index)
        }
        return value
    }

    func bytes(at offset: Int, count length: Int) -> [UInt8]? {
        guard offset >= 0, length >= 0, offset <= count - length else { return nil }
        return Array(self[offset..<(offset + length)])
    }

    public mutating func appendLE<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        for index in 0..<MemoryLayout<T>.size {
            append(UInt8(truncatingIfNeeded: value >> (8 * index)))
        }
    }

    public mutating func writeLE<T: FixedWidthInteger & UnsignedInteger>(_ value: T, at offset: Int) {
        for index in 0..<MemoryLayout<T>.size {
            self[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index))
        }
    }
}
