/// The instructions a request site may hold, identified by their exact bytes: the builder
/// checks every site with them (a mislabelled site is refused by name) and the trap transport
/// checks them again before serving, so a site is a diagnosis, never a guess.
public enum RequestInstruction: String, Sendable, Equatable, CaseIterable {
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
    /// RMPADJUST (F3 0F 01 FE; Linux asm/sev.h, edk2 Nasm.inc) — SEV-SNP VMPL permissions,
    /// #UD off SNP hardware; firmware checks it runs at VMPL0 with one.
    case rmpadjust

    public static let longest = 4

    public init?(bytes: UnsafeRawBufferPointer) {
        let prefix = Array(bytes.prefix(Self.longest))
        if prefix.starts(with: [0x0F, 0x01, 0xC1]) {
            self = .vmcall
        } else if prefix.starts(with: [0x0F, 0x01, 0xD9]) {
            self = .vmmcall
        } else if prefix.starts(with: [0xF3, 0x0F, 0x01, 0xD9]) {
            self = .vmgexit
        } else if prefix.starts(with: [0x66, 0x0F, 0x01, 0xCC]) {
            self = .tdcall
        } else if prefix.starts(with: [0xF2, 0x0F, 0x01, 0xFF]) {
            self = .pvalidate
        } else if prefix.starts(with: [0xF3, 0x0F, 0x01, 0xFE]) {
            self = .rmpadjust
        } else {
            return nil
        }
    }

    public var length: UInt64 {
        switch self {
        case .vmcall, .vmmcall: 3
        case .vmgexit, .tdcall, .pvalidate, .rmpadjust: 4
        }
    }

    /// The interface whose requests it issues. A run arms one interface's sites (its
    /// platform's) in the debug registers, so the limit of four applies per interface.
    public var interface: RequestInterface {
        switch self {
        case .vmcall, .vmmcall: .kvm
        case .vmgexit, .pvalidate, .rmpadjust: .ghcb
        case .tdcall: .tdx
        }
    }
}

/// The three conversion interfaces, named as `--platform` names them.
public enum RequestInterface: String, Sendable, CaseIterable {
    case kvm, ghcb, tdx
}
