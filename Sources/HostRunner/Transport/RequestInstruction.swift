import Payload

/// The instructions a request site may hold, identified by their exact bytes (the trap
/// transport checks them before serving, so a mislabelled site is a diagnosis, not a guess).
enum RequestInstruction: Sendable, Equatable {
    /// `vmcall` (Intel) — KVM_HC_MAP_GPA_RANGE.
    case vmcall
    /// `vmmcall` (AMD) — KVM_HC_MAP_GPA_RANGE.
    case vmmcall
    /// VMGEXIT = `rep vmmcall` — SEV-ES/SNP GHCB protocols.
    case vmgexit
    /// TDCALL — TDX module calls (TDG.VP.VMCALL, TDG.VP.INFO, TDG.MEM.PAGE.ACCEPT, …).
    case tdcall
    /// PVALIDATE (F2 0F 01 FF; Linux asm/sev.h, edk2 Nasm.inc) — SEV-SNP validation, #UD
    /// off SNP hardware, so the runner serves it as the RMP would.
    case pvalidate

    static let longest = 4

    init?(bytes: UnsafeRawBufferPointer) {
        let prefix = Array(bytes.prefix(Self.longest))
        if prefix.starts(with: [0x0F, 0x01, 0xC1]) { self = .vmcall }
        else if prefix.starts(with: [0x0F, 0x01, 0xD9]) { self = .vmmcall }
        else if prefix.starts(with: [0xF3, 0x0F, 0x01, 0xD9]) { self = .vmgexit }
        else if prefix.starts(with: [0x66, 0x0F, 0x01, 0xCC]) { self = .tdcall }
        else if prefix.starts(with: [0xF2, 0x0F, 0x01, 0xFF]) { self = .pvalidate }
        else { return nil }
    }

    var length: UInt64 {
        switch self {
        case .vmcall, .vmmcall: 3
        case .vmgexit, .tdcall, .pvalidate: 4
        }
    }

    var platform: ConversionPlatform {
        switch self {
        case .vmcall, .vmmcall: .kvm
        case .vmgexit, .pvalidate: .ghcb
        case .tdcall: .tdx
        }
    }
}
