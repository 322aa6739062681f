/// How QEMU's q35 machine splits guest RAM around the 4 GiB hole and what it writes into
/// CMOS for it.
///
/// Split (hw/i386/pc_q35.c `pc_q35_init`): RAM of 0xB0000000 bytes or more keeps 2 GiB
/// below 4 GiB, else up to 0xB0000000 (2.75 GiB) stays below; the rest goes above 4 GiB.
///
/// CMOS (hw/i386/pc.c `pc_cmos_init`), each value little-endian over its registers:
/// - 0x15/0x16: base memory in KiB, min(below / 1 KiB, 640);
/// - 0x17/0x18 and 0x30/0x31: KiB above 1 MiB, min((below − 1 MiB) / 1 KiB, 65535);
/// - 0x34/0x35: 64 KiB blocks above 16 MiB, min((below − 16 MiB) / 64 KiB, 65535);
/// - 0x5B/0x5C/0x5D: 64 KiB blocks above 4 GiB, above / 64 KiB;
/// - 0x5F: the number of CPUs minus one.
/// edk2 reads it back as ((0x35 << 8 | 0x34) << 16) + 16 MiB
/// (OvmfPkg/Library/PlatformInitLib/MemDetect.c `PlatformGetSystemMemorySizeBelow4gb`).
public struct CMOSMemorySize: Equatable, Sendable {
    public let belowFourGiB: UInt64
    public let aboveFourGiB: UInt64
    public let cpuCount: Int

    static let kib: UInt64 = 1024, mib: UInt64 = 1024 * 1024

    public init(belowFourGiB: UInt64, aboveFourGiB: UInt64, cpuCount: Int = 1) {
        self.belowFourGiB = belowFourGiB
        self.aboveFourGiB = aboveFourGiB
        self.cpuCount = cpuCount
    }

    /// The q35 split of `ramSize` bytes.
    public init(q35RAMSize ramSize: UInt64, cpuCount: Int = 1) {
        let lowLimit: UInt64 = ramSize >= 0xB000_0000 ? 0x8000_0000 : 0xB000_0000
        let below = min(ramSize, lowLimit)
        self.init(belowFourGiB: below, aboveFourGiB: ramSize - below, cpuCount: cpuCount)
    }

    /// (register, value) pairs.
    public var registers: [(UInt8, UInt8)] {
        let base = min(belowFourGiB / Self.kib, 640)
        let extended = belowFourGiB > Self.mib ? min((belowFourGiB - Self.mib) / Self.kib, 65535) : 0
        let above16M = belowFourGiB > 16 * Self.mib ? min((belowFourGiB - 16 * Self.mib) / (64 * Self.kib), 65535) : 0
        let above4G = aboveFourGiB / (64 * Self.kib)
        func bytes(_ value: UInt64, at registers: [UInt8]) -> [(UInt8, UInt8)] {
            registers.enumerated().map { ($1, UInt8(truncatingIfNeeded: value >> UInt64(8 * $0))) }
        }
        return bytes(base, at: [0x15, 0x16]) + bytes(extended, at: [0x17, 0x18]) + bytes(extended, at: [0x30, 0x31])
            + bytes(above16M, at: [0x34, 0x35]) + bytes(above4G, at: [0x5B, 0x5C, 0x5D])
            + [(0x5F, UInt8(truncatingIfNeeded: max(cpuCount, 1) - 1))]
    }
}
