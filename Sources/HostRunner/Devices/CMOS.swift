/// The MC146818 RTC's CMOS RAM behind ports 0x70 (index) and 0x71 (data), as QEMU's
/// hw/rtc/mc146818rtc.c answers it: writing 0x70 selects register `value & 0x7F` (bit 7,
/// the NMI mask on real boards, is dropped); reading 0x70 gives 0xFF; 0x71 reads and writes
/// the selected byte. Status registers A–D start at QEMU's 0x26, 0x02, 0x00, 0x80; the
/// memory-size bytes are `CMOSMemorySize`'s. The clock registers 0x00–0x09 are not kept
/// running: they read what was last stored (0 at start).
///
/// edk2 reads register 0x0F (shutdown status) in SEC and writes it in PEI
/// (OvmfPkg/PlatformPei/Platform.c), and falls back to 0x34/0x35 and 0x5B–0x5D for the RAM
/// size when fw_cfg has no etc/e820 (OvmfPkg/Library/PlatformInitLib/MemDetect.c).
public final class CMOS: PortDevice {
    public static let indexPort: UInt16 = 0x70
    public static let dataPort: UInt16 = 0x71

    public private(set) var memory: [UInt8]
    public private(set) var index: UInt8 = 0

    public init(memorySize: CMOSMemorySize) {
        memory = [UInt8](repeating: 0, count: 128)
        memory[0x0A] = 0x26
        memory[0x0B] = 0x02
        memory[0x0C] = 0x00
        memory[0x0D] = 0x80
        for (register, value) in memorySize.registers { memory[Int(register)] = value }
    }

    public func claims(port: UInt16) -> Bool { port == Self.indexPort || port == Self.dataPort }

    public func read(port: UInt16, size: Int) -> UInt32 {
        port == Self.indexPort ? 0xFF : UInt32(memory[Int(index)])
    }

    public func write(port: UInt16, size: Int, value: UInt32) -> DeviceWriteEffect {
        if port == Self.indexPort {
            index = UInt8(truncatingIfNeeded: value) & 0x7F
        } else {
            memory[Int(index)] = UInt8(truncatingIfNeeded: value)
        }
        return .none
    }
}
