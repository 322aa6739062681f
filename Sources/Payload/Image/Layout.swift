import GuestPhysical

/// How an image is placed in guest-physical memory and how the vCPU starts it
/// (docs/image-format.md; the linker scripts in Linker/ are the other half of this).
public enum Layout: String, Sendable, CaseIterable, Codable {
    /// Linked at 1 MiB, started by the host directly in 64-bit mode.
    case direct64
    /// A 2 MiB ROM ending at 4 GiB − 1, started at the reset vector in real mode.
    case firmware

    public static let ramWindow = GPARange(start: 0, end: 0xC000_0000)
    public static let romSize: UInt64 = 2 << 20
    public static let romWindow = GPARange(start: 0x1_0000_0000 - romSize, end: 0x1_0000_0000)
    public static let resetVector: UInt64 = 0xFFFF_FFF0

    /// The linker script's file name in Linker/.
    public var scriptName: String { "\(rawValue).ld" }

    /// The nasm define that selects layout-specific runtime code.
    public var assemblerDefine: String {
        switch self {
        case .direct64: "LAYOUT_DIRECT64"
        case .firmware: "LAYOUT_FIRMWARE"
        }
    }

    /// Where plan ranges may lie.
    public var windows: [GPARange] {
        switch self {
        case .direct64: [Self.ramWindow]
        case .firmware: [Self.ramWindow, Self.romWindow]
        }
    }

    /// The base name suffix of build outputs, so both layouts of one stub can share a folder.
    public var artifactSuffix: String {
        switch self {
        case .direct64: ""
        case .firmware: ".firmware"
        }
    }
}
