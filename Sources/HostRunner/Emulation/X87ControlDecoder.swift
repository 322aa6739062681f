/// Why bytes at a faulting RIP are not one of the `X87ControlInstruction`s.
public enum X87DecodeError: Error, Equatable, Sendable {
    /// The bytes end before the instruction does: fetch more.
    case truncated
    /// Some other instruction (or a form of these opcodes this decoder leaves alone, such as
    /// the register forms of D9 and 0F AE, or a VEX/mandatory-prefix variant): not ours to
    /// perform, so the caller reports the emulation failure as it would have.
    case notHandled(opcode: [UInt8])
    /// An encoding the processor answers with #UD: a LOCK prefix on these instructions
    /// (SDM vol. 2 §2.1.1 and each page's exception table).
    case invalidOpcode
    /// More than 15 bytes: #GP(0) (SDM vol. 2 §2.1).
    case tooLong
}

/// One decoded control instruction: what it is, how many bytes it takes (RIP moves by
/// that much), and its memory operand if it has one.
public struct DecodedX87Control: Equatable, Sendable {
    public var instruction: X87ControlInstruction
    public var length: Int
    public var memory: MemoryOperand?
}

/// Decodes the x87/SSE control instructions at a RIP, for 16-, 32- and 64-bit code
/// (prefixes: SDM vol. 2 §2.1.1 and §2.2.1; ModRM/SIB: tables 2-1 to 2-3).
public enum X87ControlDecoder {
    static let maximumLength = 15

    public static func decode(_ bytes: some Collection<UInt8>, codeSize: CodeSize) throws(X87DecodeError) -> DecodedX87Control {
        var reader = ByteReader(Array(bytes.prefix(maximumLength + 1)))
        var segment: SegmentRegister?
        var addressOverride = false, operandOverride = false, lock = false, repeatPrefix = false
        var rex: UInt8 = 0
        // Legacy prefixes in any order; a REX byte counts only right before the opcode.
        while true {
            let byte = try reader.peek()
            if let override = SegmentRegister(overridePrefix: byte) {
                segment = override
            } else if byte == 0x66 {
                operandOverride = true
            } else if byte == 0x67 {
                addressOverride = true
            } else if byte == 0xF0 {
                lock = true
            } else if byte == 0xF2 || byte == 0xF3 {
                repeatPrefix = true
            } else if codeSize == .bits64, byte & 0xF0 == 0x40 {
                rex = byte
                reader.skip()
                guard reader.offset <= maximumLength else { throw .tooLong }
                if isLegacyPrefix(try reader.peek()) { rex = 0; continue } // REX not last: ignored
                break
            } else {
                break
            }
            reader.skip()
            guard reader.offset <= maximumLength else { throw .tooLong }
        }
        let opcode = try reader.next()
        let instruction: X87ControlInstruction
        var memory: MemoryOperand?
        switch opcode {
        case 0x9B:
            instruction = .fwait
        case 0xDB:
            let modRM = try reader.next()
            guard modRM == 0xE3, !repeatPrefix else { throw .notHandled(opcode: [opcode, modRM]) }
            instruction = .fninit
        case 0xD9:
            let modRM = try reader.peek()
            let reg = (modRM >> 3) & 7
            guard modRM >> 6 != 3, reg == 5 || reg == 7, !repeatPrefix else { throw .notHandled(opcode: [opcode, modRM]) }
            instruction = reg == 5 ? .fldcw : .fnstcw
            memory = try decodeModRM(&reader, codeSize: codeSize, addressOverride: addressOverride, rex: rex, segment: segment)
        case 0x0F:
            let second = try reader.next()
            let modRM = try reader.peek()
            let reg = (modRM >> 3) & 7
            // 66/F2/F3 0F AE select other instructions (CLWB, RDFSBASE, …): not these.
            guard second == 0xAE, modRM >> 6 != 3, reg == 2 || reg == 3, !operandOverride, !repeatPrefix else {
                throw .notHandled(opcode: [opcode, second, modRM])
            }
            instruction = reg == 2 ? .ldmxcsr : .stmxcsr
            memory = try decodeModRM(&reader, codeSize: codeSize, addressOverride: addressOverride, rex: rex, segment: segment)
        default:
            throw .notHandled(opcode: [opcode])
        }
        guard reader.offset <= maximumLength else { throw .tooLong }
        if lock { throw .invalidOpcode }
        return DecodedX87Control(instruction: instruction, length: reader.offset, memory: memory)
    }

    private static func isLegacyPrefix(_ byte: UInt8) -> Bool {
        SegmentRegister(overridePrefix: byte) != nil || [0x66, 0x67, 0xF0, 0xF2, 0xF3].contains(byte)
    }

    /// ModRM (known to have mod != 3), then SIB and displacement.
    private static func decodeModRM(
        _ reader: inout ByteReader, codeSize: CodeSize, addressOverride: Bool, rex: UInt8,
        segment override: SegmentRegister?
    ) throws(X87DecodeError) -> MemoryOperand {
        let modRM = try reader.next()
        let mod = modRM >> 6, rm = Int(modRM & 7)
        let addressSize = codeSize.addressSize(override: addressOverride)
        var operand = MemoryOperand(
            base: nil, index: nil, scale: 1, displacement: 0, ripRelative: false,
            addressSize: addressSize, segment: .ds, segmentOverridden: false)
        var stackBased = false
        if addressSize == .bits16 {
            // Table 2-1: BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 alone with mod 00), BX.
            let pairs: [(Int?, Int?)] = [(3, 6), (3, 7), (5, 6), (5, 7), (6, nil), (7, nil), (5, nil), (3, nil)]
            (operand.base, operand.index) = pairs[rm]
            if mod == 0 && rm == 6 {
                operand.base = nil
                operand.displacement = try reader.signed(2)
            } else {
                operand.displacement = try reader.signed(mod == 1 ? 1 : mod == 2 ? 2 : 0)
            }
            stackBased = operand.base == 5
        } else {
            let extendBase = rex & 0x1 != 0, extendIndex = rex & 0x2 != 0
            var displacementBytes = mod == 1 ? 1 : mod == 2 ? 4 : 0
            if rm == 4 {
                // Table 2-3: SIB. Index 100 (without REX.X) is none; base 101 with mod 00 is disp32 alone.
                let sib = try reader.next()
                let index = Int((sib >> 3) & 7) | (extendIndex ? 8 : 0)
                operand.index = index == 4 ? nil : index
                operand.scale = 1 << UInt64(sib >> 6)
                let base = Int(sib & 7)
                if base == 5 && mod == 0 {
                    displacementBytes = 4
                } else {
                    operand.base = base | (extendBase ? 8 : 0)
                    stackBased = base == 4 || base == 5
                }
            } else if rm == 5 && mod == 0 {
                // Table 2-2: disp32; in 64-bit mode RIP-relative instead (§2.2.1.6).
                operand.ripRelative = codeSize == .bits64
                displacementBytes = 4
            } else {
                operand.base = rm | (extendBase ? 8 : 0)
                stackBased = rm == 5
            }
            operand.displacement = try reader.signed(displacementBytes)
        }
        if let override {
            operand.segment = override
            operand.segmentOverridden = true
        } else if stackBased {
            operand.segment = .ss
        }
        return operand
    }

    private struct ByteReader {
        let bytes: [UInt8]
        var offset = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        func peek() throws(X87DecodeError) -> UInt8 {
            guard offset < bytes.count else { throw offset >= X87ControlDecoder.maximumLength ? .tooLong : .truncated }
            return bytes[offset]
        }

        mutating func next() throws(X87DecodeError) -> UInt8 {
            let byte = try peek()
            offset += 1
            return byte
        }

        mutating func skip() { offset += 1 }

        /// A little-endian displacement of `count` bytes (0, 1, 2 or 4), sign-extended.
        mutating func signed(_ count: Int) throws(X87DecodeError) -> Int64 {
            var value: UInt64 = 0
            for i in 0..<count { value |= UInt64(try next()) << UInt64(8 * i) }
            guard count > 0 else { return 0 }
            let shift = UInt64(64 - 8 * count)
            return Int64(bitPattern: value << shift) >> shift
        }
    }
}
