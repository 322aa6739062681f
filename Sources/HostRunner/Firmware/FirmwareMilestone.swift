/// How far a firmware volume got, told by what the runner sees it do, since a release OVMF
/// prints nothing (docs/firmware.md). Each milestone is an access edk2's code makes at that
/// point and nowhere before it, on every platform; the order is the firmware's.
public enum FirmwareMilestone: String, Sendable, Equatable, CaseIterable, Comparable {
    /// SEC has registered its GHCB with the hypervisor (SEV-SNP only): the GHCB MSR
    /// protocol's REGISTER_GHCB request answered (OvmfPkg/Sec AmdSev.c SevEsProtocolCheck).
    case ghcbRegistered = "ghcb-registered"
    /// SEC's memory preparation is over: the first write to the primary PIC's mask port
    /// 0x21, the statement right after SecValidateSystemRam in SecCoreStartupWithStack
    /// (OvmfPkg/Sec/SecMain.c), which itself runs after the TD HOB's memory was accepted
    /// (ProcessTdxHobList) and the SNP SEC range validated. What SEC validated or accepted
    /// is in the run's events before it.
    case memoryPrepared = "memory-prepared"
    /// PEI runs: the first fw_cfg access (selector port 0x510 or data port 0x511), which
    /// only PEI's QemuFwCfgLib makes (OvmfPkg/Library/QemuFwCfgLib/QemuFwCfgPei.c); SEC
    /// decompresses the PEI and DXE volumes before it, about 450 M instructions.
    case pei

    public static func < (lhs: Self, rhs: Self) -> Bool {
        // Every case is in allCases; the fallback is never taken.
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }

    /// What it means, for `--help` and reports.
    public var meaning: String {
        switch self {
        case .ghcbRegistered: "SEC registered its GHCB (SEV-SNP)"
        case .memoryPrepared: "SEC finished validating / accepting its memory and masked the PIC"
        case .pei: "PEI made its first fw_cfg access (after SEC's decompression)"
        }
    }

    /// fw_cfg's I/O ports on QEMU x86 machines: selector 0x510, data 0x511, DMA 0x514–0x51B
    /// (QEMU docs/specs/fw_cfg.rst).
    static let fwCfgPorts: ClosedRange<UInt16> = 0x510...0x51B
    /// The primary 8259's data (mask) port.
    static let primaryPICMask: UInt16 = 0x21

    /// The milestone a port access marks, if any.
    static func marked(byPort port: UInt16, isWrite: Bool) -> FirmwareMilestone? {
        if isWrite, port == primaryPICMask { return .memoryPrepared }
        if fwCfgPorts.contains(port) { return .pei }
        return nil
    }
}
