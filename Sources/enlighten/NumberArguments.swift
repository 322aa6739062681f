import Foundation

/// Integers as Python's `int(text, 0)` reads them — sev-snp-measure parses --vcpu-sig and
/// --guest-features that way: `0x`/`0o`/`0b` prefixes (any case), else decimal; `_` between
/// digits allowed.
enum AutoBaseInteger {
    static func parse(_ text: String) -> UInt64? {
        let lower = text.trimmingCharacters(in: .whitespaces).lowercased()
        let (radix, digits): (Int, Substring) =
            switch lower.prefix(2) {
            case "0x": (16, lower.dropFirst(2))
            case "0o": (8, lower.dropFirst(2))
            case "0b": (2, lower.dropFirst(2))
            default: (10, Substring(lower))
            }
        guard !digits.isEmpty, !digits.hasPrefix("_"), !digits.hasSuffix("_"), !digits.contains("__") else { return nil }
        // Python refuses leading zeros in decimal ("010"), except for zero itself.
        if radix == 10, digits.count > 1, digits.hasPrefix("0"), digits.contains(where: { $0 != "0" && $0 != "_" }) { return nil }
        return UInt64(digits.replacingOccurrences(of: "_", with: ""), radix: radix)
    }
}

/// Bytes written as hex digits (an optional 0x prefix), as sev-snp-measure's `bytes.fromhex`.
enum HexBytes {
    static func parse(_ text: String) -> [UInt8]? {
        var digits = Substring(text.lowercased())
        if digits.hasPrefix("0x") { digits = digits.dropFirst(2) }
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
            out.append(byte)
            index = next
        }
        return out
    }
}
