/// The two cascaded 8259A interrupt controllers (master 0x20/0x21, slave 0xA0/0xA1) as far
/// as firmware programs them before interrupts matter: the ICW1–ICW4 initialization
/// sequence and the interrupt mask register (OCW1), following QEMU's hw/intc/i8259.c
/// `pic_ioport_write`/`pic_ioport_read` and `pic_reset_common` (IMR 0 after reset and after
/// ICW1). No interrupt is ever raised, so IRR and ISR read 0. edk2's SEC masks every line
/// (OvmfPkg/Sec/SecMain.c: IoWrite8 (0x21, 0xff); IoWrite8 (0xA1, 0xff)).
public final class LegacyPIC: PortDevice {
    /// One 8259A.
    public struct Controller: Equatable, Sendable {
        /// IMR: bit n set = line n masked.
        public internal(set) var interruptMask: UInt8 = 0
        /// ICW2's vector base (bits 7:3).
        public internal(set) var vectorBase: UInt8 = 0
        /// 0 = ready for OCW1; 1–3 = the next byte on the data port is ICW2–ICW4.
        var initializationStep = 0
        var expectsICW4 = false
        var singleMode = false

        mutating func writeCommand(_ value: UInt8) {
            guard value & 0x10 != 0 else { return } // OCW2/OCW3: EOI, read-register select — no state kept
            interruptMask = 0
            initializationStep = 1
            expectsICW4 = value & 0x01 != 0
            singleMode = value & 0x02 != 0
        }

        mutating func writeData(_ value: UInt8) {
            switch initializationStep {
            case 1:
                vectorBase = value & 0xF8
                initializationStep = singleMode ? (expectsICW4 ? 3 : 0) : 2
            case 2:
                initializationStep = expectsICW4 ? 3 : 0
            case 3:
                initializationStep = 0
            default:
                interruptMask = value
            }
        }
    }

    public private(set) var master = Controller()
    public private(set) var slave = Controller()

    public init() {}

    public func claims(port: UInt16) -> Bool { port == 0x20 || port == 0x21 || port == 0xA0 || port == 0xA1 }

    public func read(port: UInt16, size: Int) -> UInt32 {
        let controller = port & 0xF0 == 0x20 ? master : slave
        return port & 1 == 1 ? UInt32(controller.interruptMask) : 0
    }

    public func write(port: UInt16, size: Int, value: UInt32) -> DeviceWriteEffect {
        let byte = UInt8(truncatingIfNeeded: value)
        if port & 0xF0 == 0x20 {
            if port & 1 == 1 { master.writeData(byte) } else { master.writeCommand(byte) }
        } else {
            if port & 1 == 1 { slave.writeData(byte) } else { slave.writeCommand(byte) }
        }
        return .none
    }
}
