import GuestPhysical

/// A GUID as firmware stores it: the first three groups little-endian, the last two as written.
/// We keep the 16 on-disk bytes so comparisons never depend on a conversion being right twice.
public struct FirmwareGUID: Hashable, Sendable, CustomStringConvertible {
    /// The 16 bytes exactly as they appear in the image.
    public let bytes: [UInt8]

    /// Wraps 16 on-disk bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses the canonical text form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`; nil if malformed.
    public init?(_ text: String) {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.count == 5, groups.map(\.count) == [8, 4, 4, 4, 12] else { return nil }
        var out: [UInt8] = []
        for (index, group) in groups.enumerated() {
            var groupBytes: [UInt8] = []
            var chars = Array(group)
            while !chars.isEmpty {
                guard let byte = UInt8(String(chars.prefix(2)), radix: 16) else { return nil }
                groupBytes.append(byte)
                chars.removeFirst(2)
            }
            // The first three groups are integers stored little-endian; the rest are byte strings.
            out += index < 3 ? groupBytes.reversed() : groupBytes
        }
        self.bytes = out
    }

    public var description: String {
        func hex(_ slice: ArraySlice<UInt8>) -> String {
            slice.map { byte in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }.joined()
        }
        let b = bytes
        return [
            hex(ArraySlice(b[0..<4].reversed())), hex(ArraySlice(b[4..<6].reversed())),
            hex(ArraySlice(b[6..<8].reversed())), hex(b[8..<10]), hex(b[10..<16]),
        ].joined(separator: "-")
    }
}

extension FirmwareGUID {
    /// Builds a constant from a literal; a malformed literal is a programming error that the
    /// unit tests (which compare every constant with its published text) catch first.
    static func known(_ text: String) -> FirmwareGUID {
        if let guid = FirmwareGUID(text) { return guid }
        preconditionFailure("malformed GUID constant \(text)")
    }
}
