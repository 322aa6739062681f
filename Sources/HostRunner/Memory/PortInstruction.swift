/// An IN, OUT, INS or OUTS as the guest encoded it (Intel SDM vol. 2, "IN", "OUT", "INS",
/// "OUTS"; 64-bit mode): what the SVM IOIO exit and the VMX I/O exit qualification describe.
///
/// Why the runner needs it: on SEV-SNP and TDX a port instruction is not executed but raises
/// #VC / #VE at the instruction, while KVM_EXIT_IO on this host may come after KVM's emulator
/// retired an OUT (RIP past it). The runner finds the instruction's start by decoding at RIP
/// and just before it, and checks it is the access the exit reports.
struct PortInstruction: Equatable {
    let length: Int
    /// The port when the instruction names it (imm8); nil: DX.
    let immediatePort: UInt16?
    let isIn: Bool
    let size: Int
    let isString: Bool
    let isRep: Bool

    /// The longest encoding decoded: prefixes (66, 67, F2/F3, a segment override, REX) before a
    /// one-byte opcode and an imm8.
    static let maximumLength = 6

    static func decode(_ bytes: ArraySlice<UInt8>) -> PortInstruction? {
        var index = bytes.startIndex
        var operandSize16 = false, rep = false
        prefixes: while index < bytes.endIndex {
            switch bytes[index] {
            case 0x66: operandSize16 = true
            case 0xF2, 0xF3: rep = true
            case 0x67, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65: break
            default: break prefixes
            }
            index += 1
        }
        if index < bytes.endIndex, bytes[index] & 0xF0 == 0x40 { index += 1 } // REX: no effect on I/O
        guard index < bytes.endIndex else { return nil }
        let opcode = bytes[index]
        index += 1
        let wide = opcode & 1 == 1
        let size = wide ? (operandSize16 ? 2 : 4) : 1
        switch opcode {
        case 0xE4...0xE7:
            guard index < bytes.endIndex else { return nil }
            let port = UInt16(bytes[index])
            return PortInstruction(
                length: index + 1 - bytes.startIndex, immediatePort: port, isIn: opcode < 0xE6, size: size, isString: false, isRep: false)
        case 0xEC...0xEF:
            return PortInstruction(
                length: index - bytes.startIndex, immediatePort: nil, isIn: opcode < 0xEE, size: size, isString: false, isRep: false)
        case 0x6C...0x6F:
            return PortInstruction(
                length: index - bytes.startIndex, immediatePort: nil, isIn: opcode < 0x6E, size: size, isString: true, isRep: rep)
        default:
            return nil
        }
    }

    /// Where the port instruction of an exit for `port` (`isIn`, `size` bytes) starts, given the
    /// code bytes from `rip - lookBehind` on: at RIP (not retired yet) or ending exactly at RIP
    /// (retired by KVM's emulator). `dx` is the guest's DX.
    static func locate(
        _ code: [UInt8], lookBehind: Int, port: UInt16, isIn: Bool, size: Int, dx: UInt16
    ) -> (offset: Int, instruction: PortInstruction)? {
        func matches(_ instruction: PortInstruction) -> Bool {
            instruction.isIn == isIn && instruction.size == size && (instruction.immediatePort ?? dx) == port
        }
        if lookBehind < code.count, let here = decode(code[lookBehind...]), matches(here) { return (0, here) }
        for back in stride(from: 1, through: min(lookBehind, maximumLength), by: 1) {
            let start = lookBehind - back
            if let before = decode(code[start..<lookBehind]), before.length == back, matches(before) { return (-back, before) }
        }
        return nil
    }
}
