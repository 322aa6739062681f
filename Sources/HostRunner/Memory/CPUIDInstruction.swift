/// CPUID as the guest encoded it (Intel SDM vol. 2 "CPUID": 0F A2, no operands; 64-bit mode),
/// found before it runs by `RunOptions.catchRawCPUID`'s single steps.
///
/// Prefixes that leave it a CPUID: operand size (66), address size (67), REP (F2/F3), the
/// segment overrides and one REX (40–4F) right before the opcode; they change nothing. LOCK
/// (F0) makes it #UD (SDM vol. 2 §2.1.1: LOCK before a non-lockable instruction), which the
/// CPU raises before any intercept, so an F0 form is not a CPUID here and runs to its #UD.
/// An instruction longer than 15 bytes is #GP, likewise not a CPUID.
enum CPUIDInstruction {
    /// The longest x86 instruction (SDM vol. 2 §2.3.11).
    static let maximumLength = 15
    static let opcode: [UInt8] = [0x0F, 0xA2]

    /// The instruction's length when `bytes` (an instruction fetch at RIP) start with a CPUID,
    /// else nil.
    static func length(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index < bytes.count, isLegacyPrefix(bytes[index]) { index += 1 }
        if index < bytes.count, bytes[index] & 0xF0 == 0x40 { index += 1 }
        guard index + opcode.count <= min(bytes.count, maximumLength) else { return nil }
        guard bytes[index] == opcode[0], bytes[index + 1] == opcode[1] else { return nil }
        return index + opcode.count
    }

    private static func isLegacyPrefix(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x66, 0x67, 0xF2, 0xF3, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65: true
        default: false
        }
    }
}
