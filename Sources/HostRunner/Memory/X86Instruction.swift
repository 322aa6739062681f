/// Just enough of the x86-64 instruction format (Intel SDM vol. 2 ch. 2 and appendix A, the
/// opcode maps) to tell how long a 64-bit-mode instruction is and which memory it addresses.
///
/// Why the runner needs it: on this host a guest write to a closed view page comes back as
/// KVM_EXIT_MMIO *after* KVM's emulator committed the instruction (RIP already past it), while
/// the platform's fault (#VC 0x404, #VE) leaves RIP at the instruction, so the handler's return
/// runs the write again. The runner finds the instruction's start by decoding backwards from
/// RIP (`FaultingAccess`).
struct X86Instruction: Equatable {
    enum Memory: Equatable {
        /// A ModRM memory operand: [base + index * scale + displacement], or RIP-relative.
        case modRM(base: Int?, index: Int?, scale: UInt64, displacement: Int64, ripRelative: Bool, addressSize32: Bool, segment: UInt8?)
        /// A memory access the opcode implies (the stack, string instructions, moffs).
        case implicit
    }

    let length: Int
    let memory: Memory?
    /// The bytes its ModRM operand has, where the one-byte opcode map fixes it (b or v-sized
    /// general-purpose operands); nil for SSE/AVX and the other maps.
    let operandBytes: Int?

    static let maximumLength = 15

    /// Decodes the instruction at the start of `bytes` in 64-bit mode, or with `bits32` in 32-bit
    /// protected mode (a code segment with D set: what firmware runs before long mode, such as
    /// OVMF's reset vector); nil when it is not a valid encoding or runs past `bytes`. 32-bit
    /// mode differs where it matters here (SDM vol. 2 §2.1.5, §2.2.1): no REX (40–4F are
    /// INC/DEC), ModRM mod 00 r/m 101 is an absolute disp32 rather than RIP-relative, and
    /// addresses are 32 bits (a 67 prefix makes them 16-bit, not decoded: nil).
    static func decode(_ bytes: ArraySlice<UInt8>, bits32: Bool = false) -> X86Instruction? {
        var cursor = Cursor(bytes: bytes)
        var operandSize16 = false, addressSize32 = bits32, segment: UInt8?
        prefixes: while let byte = cursor.peek() {
            switch byte {
            case 0x66: operandSize16 = true
            case 0x67:
                if bits32 { return nil }
                addressSize32 = true
            case 0x64, 0x65: segment = byte
            case 0x26, 0x2E, 0x36, 0x3E, 0xF0, 0xF2, 0xF3: break
            default: break prefixes
            }
            cursor.skip(1)
        }
        var rex: UInt8 = 0
        if !bits32, let byte = cursor.peek(), byte & 0xF0 == 0x40 { rex = byte; cursor.skip(1) }
        guard let opcode = cursor.next() else { return nil }
        let wide = rex & 0x8 != 0
        let immediateZ = operandSize16 ? 2 : 4 // Iz: imm16/imm32
        var layout: Layout
        switch opcode {
        case 0x0F:
            guard let second = cursor.next() else { return nil }
            switch second {
            case 0x38: guard cursor.next() != nil else { return nil }; layout = Layout(modRM: true)
            case 0x3A: guard cursor.next() != nil else { return nil }; layout = Layout(modRM: true, immediate: 1)
            default:
                guard let known = twoByte(second, immediateZ: immediateZ) else { return nil }
                layout = known
            }
        case 0xC4, 0xC5, 0x62:
            // VEX (C4 three bytes, C5 two) and EVEX (62, four): map in the prefix, then opcode and ModRM.
            let prefixBytes = opcode == 0xC5 ? 1 : opcode == 0xC4 ? 2 : 3
            guard let first = cursor.peek() else { return nil }
            let map = opcode == 0xC5 ? 1 : Int(first & (opcode == 0x62 ? 0x7 : 0x1F))
            cursor.skip(prefixBytes)
            guard cursor.next() != nil, (1...3).contains(map) else { return nil }
            layout = Layout(modRM: true, immediate: map == 3 ? 1 : 0)
        case 0x40...0x4F where bits32:
            layout = Layout() // INC/DEC r32
        default:
            guard
                let known = oneByte(
                    opcode, wide: wide, operandSize16: operandSize16, immediateZ: immediateZ,
                    addressSize32: addressSize32, reg: cursor.peek().map { ($0 >> 3) & 7 })
            else { return nil }
            layout = known
        }
        var memory: Memory? = layout.implicitMemory ? .implicit : nil
        if layout.modRM {
            guard let modRM = cursor.next() else { return nil }
            let mod = modRM >> 6, rm = Int(modRM & 7)
            if mod != 3 {
                var base: Int? = rm | (rex & 0x1 != 0 ? 8 : 0), index: Int?, scale: UInt64 = 1
                var displacementSize = mod == 1 ? 1 : mod == 2 ? 4 : 0
                var ripRelative = false
                if rm == 4 {
                    guard let sib = cursor.next() else { return nil }
                    let indexField = Int((sib >> 3) & 7) | (rex & 0x2 != 0 ? 8 : 0)
                    index = indexField == 4 ? nil : indexField
                    scale = 1 << UInt64(sib >> 6)
                    base = Int(sib & 7) | (rex & 0x1 != 0 ? 8 : 0)
                    if sib & 7 == 5 && mod == 0 { base = nil; displacementSize = 4 }
                } else if rm == 5 && mod == 0 {
                    base = nil
                    ripRelative = !bits32
                    displacementSize = 4
                }
                guard let displacement = cursor.signed(displacementSize) else { return nil }
                memory = .modRM(
                    base: base, index: index, scale: scale, displacement: displacement, ripRelative: ripRelative,
                    addressSize32: addressSize32, segment: segment)
            }
        }
        guard cursor.skipChecked(layout.immediate), cursor.offset <= maximumLength else { return nil }
        let isOneByteMap = opcode != 0x0F && opcode != 0xC4 && opcode != 0xC5 && opcode != 0x62
        let operandBytes =
            !isOneByteMap
            ? nil
            : byteSized.contains(opcode)
                ? 1
                : opcode == 0x8C || opcode == 0x8E
                    ? 2
                    : wide ? 8 : operandSize16 ? 2 : 4
        return X86Instruction(length: cursor.offset, memory: memory, operandBytes: operandBytes)
    }

    /// One-byte opcodes whose ModRM operand is a byte (Eb): the ALU r/m8 forms and their
    /// kin (SDM vol. 2 table A-2).
    private static let byteSized: Set<UInt8> = [
        0x00, 0x02, 0x08, 0x0A, 0x10, 0x12, 0x18, 0x1A, 0x20, 0x22, 0x28, 0x2A,
        0x30, 0x32, 0x38, 0x3A, 0x80, 0x84, 0x86, 0x88, 0x8A, 0xC0, 0xC6,
        0xD0, 0xD2, 0xF6, 0xFE,
    ]

    /// What follows an opcode: a ModRM byte (and SIB/displacement), an immediate, an implied access.
    private struct Layout {
        var modRM = false
        var immediate = 0
        var implicitMemory = false
    }

    /// The one-byte opcode map (SDM vol. 2 table A-2), 64-bit mode.
    private static func oneByte(
        _ opcode: UInt8, wide: Bool, operandSize16: Bool, immediateZ: Int,
        addressSize32: Bool, reg: UInt8?
    ) -> Layout? {
        switch opcode {
        case 0x00...0x3F:
            let low = opcode & 7
            if low <= 3 { return Layout(modRM: true) } // ALU r/m, r and r, r/m
            if low == 4 { return Layout(immediate: 1) } // ALU AL, imm8
            if low == 5 { return Layout(immediate: immediateZ) } // ALU eAX, imm
            return nil // segment push/pop, BCD: invalid
        case 0x50...0x5F: return Layout(implicitMemory: true) // push/pop r
        case 0x63: return Layout(modRM: true) // movsxd
        case 0x68: return Layout(immediate: immediateZ, implicitMemory: true)
        case 0x69: return Layout(modRM: true, immediate: immediateZ)
        case 0x6A: return Layout(immediate: 1, implicitMemory: true)
        case 0x6B: return Layout(modRM: true, immediate: 1)
        case 0x6C...0x6F: return Layout(implicitMemory: true) // ins/outs
        case 0x70...0x7F: return Layout(immediate: 1) // jcc rel8
        case 0x80, 0x83: return Layout(modRM: true, immediate: 1)
        case 0x81: return Layout(modRM: true, immediate: immediateZ)
        case 0x84...0x8F: return Layout(modRM: true)
        case 0x90...0x99, 0x9B, 0x9E, 0x9F: return Layout()
        case 0x9C, 0x9D: return Layout(implicitMemory: true) // pushf/popf
        case 0xA0...0xA3: return Layout(immediate: addressSize32 ? 4 : 8, implicitMemory: true) // mov moffs
        case 0xA4...0xA7, 0xAA...0xAF: return Layout(implicitMemory: true) // string instructions
        case 0xA8: return Layout(immediate: 1)
        case 0xA9: return Layout(immediate: immediateZ)
        case 0xB0...0xB7: return Layout(immediate: 1)
        case 0xB8...0xBF: return Layout(immediate: wide ? 8 : operandSize16 ? 2 : 4)
        case 0xC0, 0xC1: return Layout(modRM: true, immediate: 1)
        case 0xC2: return Layout(immediate: 2, implicitMemory: true) // ret imm16
        case 0xC3: return Layout(implicitMemory: true)
        case 0xC6: return Layout(modRM: true, immediate: 1)
        case 0xC7: return Layout(modRM: true, immediate: immediateZ)
        case 0xC8: return Layout(immediate: 3, implicitMemory: true) // enter imm16, imm8
        case 0xC9, 0xCB, 0xCF: return Layout(implicitMemory: true) // leave, retf, iret
        case 0xCA: return Layout(immediate: 2, implicitMemory: true)
        case 0xCC, 0xF1, 0xF4, 0xF5, 0xF8...0xFD, 0xD7, 0xEC...0xEF: return Layout()
        case 0xCD: return Layout(immediate: 1)
        case 0xD0...0xD3, 0xD8...0xDF: return Layout(modRM: true) // shifts, x87
        case 0xE0...0xE7, 0xEB: return Layout(immediate: 1) // loop/jcxz, in/out imm8, jmp rel8
        case 0xE8: return Layout(immediate: 4, implicitMemory: true) // call rel32
        case 0xE9: return Layout(immediate: 4)
        case 0xF6: return Layout(modRM: true, immediate: reg.map { $0 <= 1 } == true ? 1 : 0)
        case 0xF7: return Layout(modRM: true, immediate: reg.map { $0 <= 1 } == true ? immediateZ : 0)
        case 0xFE, 0xFF: return Layout(modRM: true)
        default: return nil // 06, 07, 0E, …, 60–62, 9A, CE, D4–D6, EA: invalid
        }
    }

    /// The two-byte (0F) opcode map (SDM vol. 2 table A-3), 64-bit mode.
    private static func twoByte(_ opcode: UInt8, immediateZ: Int) -> Layout? {
        switch opcode {
        case 0x05, 0x06, 0x07, 0x08, 0x09, 0x0B, 0x0E, 0x30...0x37, 0x77, 0xA2, 0xAA, 0xC8...0xCF: return Layout()
        case 0x04, 0x0A, 0x0C, 0x24...0x27, 0x36, 0x39, 0x3B...0x3F, 0x7A, 0x7B, 0xA6, 0xA7, 0xFF: return nil
        case 0x80...0x8F: return Layout(immediate: 4) // jcc rel32
        case 0xA0, 0xA1, 0xA8, 0xA9: return Layout(implicitMemory: true) // push/pop fs/gs
        case 0x0F, 0x70...0x73, 0xA4, 0xAC, 0xBA, 0xC2, 0xC4...0xC6: return Layout(modRM: true, immediate: 1)
        default: return Layout(modRM: true)
        }
    }

    private struct Cursor {
        let bytes: ArraySlice<UInt8>
        var offset = 0

        func peek() -> UInt8? {
            let index = bytes.startIndex + offset
            return index < bytes.endIndex && offset < X86Instruction.maximumLength ? bytes[index] : nil
        }

        mutating func next() -> UInt8? {
            defer { offset += 1 }
            return peek()
        }

        mutating func skip(_ count: Int) { offset += count }

        mutating func skipChecked(_ count: Int) -> Bool {
            offset += count
            return bytes.startIndex + offset <= bytes.endIndex
        }

        /// A little-endian signed displacement of `size` bytes (0, 1 or 4).
        mutating func signed(_ size: Int) -> Int64? {
            guard size > 0 else { return 0 }
            guard bytes.startIndex + offset + size <= bytes.endIndex else { return nil }
            var value: UInt64 = 0
            for i in 0..<size { value |= UInt64(bytes[bytes.startIndex + offset + i]) << (8 * UInt64(i)) }
            offset += size
            let shift = UInt64(64 - 8 * size)
            return Int64(bitPattern: value << shift) >> shift
        }
    }
}
