import KVM

/// Item-wise access to a string I/O exit (`rep outs`/`rep ins`): `count` items of `width`
/// bytes laid end to end in the kvm_run data area.
extension ExitBytes {
    func load(width: Int, item: Int) -> UInt64 {
        var value: UInt64 = 0
        let base = item * width
        for byte in 0..<min(width, 8) where base + byte < count {
            value |= UInt64(bytes[base + byte]) << (8 * UInt64(byte))
        }
        return value
    }

    func store(_ value: UInt64, width: Int, item: Int) {
        let base = item * width
        for byte in 0..<min(width, 8) where base + byte < count {
            bytes[base + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte)))
        }
    }
}
