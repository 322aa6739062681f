/// `0x…` formatting used in every message and report (128-bit values included, so a range
/// past the top of the address space prints unwrapped).
public func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }
