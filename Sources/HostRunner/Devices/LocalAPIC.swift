/// The xAPIC registers firmware programs, as a memory model at 0xFEE00000 (Intel SDM vol. 3
/// §11.4.1 "Local APIC register address map", table 11-1): every register is 32 bits on a
/// 16-byte boundary. A write to a read/write register is kept and read back; every other
/// register reads its value after power-up or reset (SDM vol. 3 §11.4.7.1): SVR 0x000000FF,
/// LVT entries 0x00010000 (masked), DFR 0xFFFFFFFF, the rest 0, the APIC ID in bits 31:24,
/// and the version register QEMU's APIC reports, 0x00050014 (version 0x14, six LVT entries;
/// hw/intc/apic.c). The timer does not run: the current count reads 0.
///
/// edk2's SEC writes SVR (0xF0), the LVT timer (0x320) and the initial count (0x380); PEI
/// reads the ID (0x20) and writes LINT0/LINT1 (0x350/0x360) (UefiCpuPkg/Library/BaseXApicLib).
/// Accesses that are not 32-bit and 16-byte aligned read 0 and are dropped, as the SDM
/// leaves them undefined. The APIC base MSR is not modelled: the page stays at 0xFEE00000.
public final class LocalAPIC: MMIODevice {
    public static let base: UInt64 = 0xFEE0_0000
    public static let size: UInt64 = 0x1000
    static let maskedLVT: UInt32 = 0x0001_0000
    static let readWrite: Set<UInt64> = [
        0x20, 0x80, 0xD0, 0xE0, 0xF0, 0x280, 0x2F0, 0x300, 0x310,
        0x320, 0x330, 0x340, 0x350, 0x360, 0x370, 0x380, 0x3E0,
    ]

    public let apicID: UInt8
    private var written: [UInt64: UInt32] = [:]

    public init(apicID: UInt8 = 0) { self.apicID = apicID }

    /// The reset value of the register at `offset`.
    public func resetValue(offset: UInt64) -> UInt32 {
        switch offset {
        case 0x20: UInt32(apicID) << 24
        case 0x30: 0x0005_0014
        case 0xE0: 0xFFFF_FFFF
        case 0xF0: 0x0000_00FF
        case 0x2F0, 0x320...0x370: Self.maskedLVT
        default: 0
        }
    }

    /// What the register at `offset` reads now.
    public func register(offset: UInt64) -> UInt32 { written[offset] ?? resetValue(offset: offset) }

    public func claims(address: UInt64) -> Bool { address >= Self.base && address < Self.base + Self.size }

    public func read(address: UInt64, size: Int) -> UInt32 {
        let offset = address - Self.base
        guard size == 4, offset % 16 == 0 else { return 0 }
        return register(offset: offset)
    }

    public func write(address: UInt64, size: Int, value: UInt32) -> DeviceWriteEffect {
        let offset = address - Self.base
        if size == 4, offset % 16 == 0, Self.readWrite.contains(offset) { written[offset] = value }
        return .none
    }
}
