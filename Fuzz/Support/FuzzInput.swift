#if canImport(Glibc)
import Glibc
#endif

/// libFuzzer's bytes read as the fields of one structured input: each read takes the next
/// bytes, and reads past the end give zeros, so every byte string is some input.
struct FuzzInput {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var offset = 0

    init(_ data: UnsafePointer<UInt8>?, _ count: Int) {
        bytes = UnsafeBufferPointer(start: data, count: data == nil ? 0 : count)
    }

    var remaining: Int { max(0, bytes.count - offset) }

    mutating func u8() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() -> UInt16 { UInt16(u8()) | UInt16(u8()) << 8 }
    mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }
    mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }
    mutating func bool() -> Bool { u8() & 1 == 1 }

    /// The rest of the input.
    mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return offset < bytes.count ? Array(bytes[offset...]) : []
    }
}

/// A broken oracle: say which, then abort so libFuzzer keeps the input as a crash artifact.
func expect(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    guard !condition() else { return }
    fputs("oracle failed: \(message())\n", stderr)
    abort()
}
