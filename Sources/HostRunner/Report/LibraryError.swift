import GuestPhysical

/// The errors the guest's interface library answers itself, without asking the host
/// (GuestStubs/abi/interfaces.inc, EN_ABI_ERR_*): tagged "EN" in the top bytes so they never
/// equal a value of the three specs. A failed CHECK that got one names it.
public enum LibraryError: UInt64, Sendable, CaseIterable {
    case noInterface = 0x454E_0000_0000_0001
    case badArgument = 0x454E_0000_0000_0002
    case noProgress = 0x454E_0000_0000_0003

    public var name: String {
        switch self {
        case .noInterface: "EN_ABI_ERR_NO_INTERFACE"
        case .badArgument: "EN_ABI_ERR_BAD_ARGUMENT"
        case .noProgress: "EN_ABI_ERR_NO_PROGRESS"
        }
    }

    public var meaning: String {
        switch self {
        case .noInterface: "en_convert found no conversion interface: the guest was told no platform, or TDG.VP.INFO gave no usable GPAW"
        case .badArgument: "the library refused the request itself: an unaligned or empty range, a bad direction, or more than 253 PSC entries"
        case .noProgress: "ghcb_psc gave up: 16 answers in a row consumed no entry"
        }
    }

    /// "0x454e000000000001 (EN_ABI_ERR_NO_INTERFACE: …)" for a library error, else the hex value.
    public static func describe(_ value: UInt64) -> String {
        guard let error = LibraryError(rawValue: value) else { return hex(value) }
        return "\(hex(value)) (\(error.name): \(error.meaning))"
    }
}
