/// The GHCB save-area fields this host reads or writes, by byte offset.
///
/// Offsets from Linux `arch/x86/include/asm/svm.h` (`struct ghcb_save_area`), which
/// edk2 `MdePkg/Include/Register/Amd/Ghcb.h` and coconut-svsm `sev/ghcb.rs` agree with.
public enum GHCBField: Int, Sendable, CaseIterable {
    case cpl = 0x0CB
    /// IA32_XSS, supplied with a CPUID event (KVM reads it when marked valid).
    case xss = 0x140
    case rax = 0x1F8
    case rcx = 0x308
    case rdx = 0x310
    case rbx = 0x318
    case rsi = 0x330
    case swExitCode = 0x390
    case swExitInfo1 = 0x398
    case swExitInfo2 = 0x3A0
    case swScratch = 0x3A8
    /// XCR0, required with CPUID leaf 0xD (sev.c `sev_es_validate_vmgexit`).
    case xcr0 = 0x3E8

    public var offset: Int { rawValue }

    /// The field's bit in the valid bitmap: its quadword index in the save area
    /// (Linux `GHCB_BITMAP_IDX`).
    public var validBit: Int { rawValue / 8 }

    public var width: Int { self == .cpl ? 1 : 8 }
}

/// Fixed places in the 4 KiB GHCB outside the register save area.
public enum GHCBLayout {
    public static let pageSize = 4096
    public static let validBitmapOffset = 0x3F0
    public static let validBitmapLength = 16
    /// `GHCB_SHARED_BUF_SIZE` is 2032 bytes starting at 0x800.
    public static let sharedBufferOffset = 0x800
    public static let sharedBufferEnd = 0xFF0
    public static let protocolVersionOffset = 0xFFA
    public static let usageOffset = 0xFFC
}
