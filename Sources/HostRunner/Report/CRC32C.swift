/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final xor
/// 0xFFFFFFFF): the checksum the guest runtime computes with SSE4.2 `crc32`, so host and
/// guest can prove they see the same bytes.
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1 }
        return value
    }

    /// The running register before the final xor: start from `initial`, feed bytes and zero
    /// runs in order, then `finish`.
    public static let initial: UInt32 = 0xFFFF_FFFF

    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = crc
        // SAFETY: iterates the caller's buffer within its count; nothing is kept.
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc
    }

    /// The register after `count` zero bytes, in O(log count): feeding a zero byte is a
    /// linear map of the register over GF(2) (the table is linear and table[0] = 0), so `count`
    /// of them is that map's `count`-th power, by repeated squaring (the method of zlib's
    /// crc32_combine). A CHECKSUM of a large zero range then costs nothing like its length.
    public static func updateZeros(_ crc: UInt32, count: UInt64) -> UInt32 {
        var power = ZeroOperator.oneByte
        var remaining = count
        var crc = crc
        while remaining > 0 {
            if remaining & 1 == 1 { crc = power.apply(crc) }
            remaining >>= 1
            if remaining > 0 { power = power.squared() }
        }
        return crc
    }

    public static func finish(_ crc: UInt32) -> UInt32 { crc ^ 0xFFFF_FFFF }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        finish(update(initial, bytes))
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        // SAFETY: the array's own storage, read only inside the closure.
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// A linear map of the 32-bit register, as the images of its 32 basis bits.
    private struct ZeroOperator {
        var columns: [UInt32]

        static let oneByte = ZeroOperator(
            columns: (0..<32).map { bit in
                let register = UInt32(1) << UInt32(bit)
                return table[Int(register & 0xFF)] ^ (register >> 8)
            })

        func apply(_ vector: UInt32) -> UInt32 {
            var result: UInt32 = 0, rest = vector, bit = 0
            while rest != 0 {
                if rest & 1 == 1 { result ^= columns[bit] }
                rest >>= 1
                bit += 1
            }
            return result
        }

        func squared() -> ZeroOperator { ZeroOperator(columns: columns.map(apply)) }
    }
}
