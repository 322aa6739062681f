/// The instructions that load RFLAGS from the stack, and so can set TF (Intel SDM vol. 2
/// "POPF", "IRET"; 64-bit mode): where the RFLAGS image lies above RSP.
enum FlagsRestore {
    static let popf: UInt8 = 0x9D
    static let iret: UInt8 = 0xCF

    /// 0 for POPF (RFLAGS at [RSP]); for IRET, past RIP and CS: 2 × 8 bytes with REX.W
    /// (IRETQ), 2 × 4 without (32-bit operands), 2 × 2 with 66. nil: neither.
    static func flagsOffset(_ bytes: [UInt8]) -> Int? {
        var index = 0, operandSize16 = false, rexW = false
        while index < bytes.count, [0x66, 0x67, 0xF2, 0xF3, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65].contains(bytes[index]) {
            if bytes[index] == 0x66 { operandSize16 = true }
            index += 1
        }
        if index < bytes.count, bytes[index] & 0xF0 == 0x40 {
            rexW = bytes[index] & 0x08 != 0
            index += 1
        }
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case popf: return 0
        case iret: return 2 * (rexW ? 8 : operandSize16 ? 2 : 4)
        default: return nil
        }
    }
}
