import KVM

/// The instruction behind an access the guest's views stopped, as far as the platform's fault
/// needs it: where it begins and which linear address it used.
///
/// This host's KVM_EXIT_MMIO gives neither. A read exits before it retires (RIP at it); a write
/// after KVM's emulator retired it (RIP past it). The platforms' faults are taken *at* the
/// instruction (so a handler's return runs the write again) and name the linear address (SNP:
/// CR2 for #VC 0x404, AMD APM vol. 2 §15.36.10; TDX: the GLA of TDG.VP.VEINFO.GET).
///
/// A write's start is found by decoding the up to 15 bytes before RIP at every length
/// (`X86Instruction`), keeping the lengths that are one whole instruction with a memory
/// operand whose effective address, from the registers, reaches the written GPA, and whose
/// operand size (where the opcode fixes it) is the write's. A prefix byte makes the
/// instruction's suffix an instruction too (`48 89 00` and `89 00` both store to [rax]): the
/// size tells them apart, and what still nests is taken whole (the longest). Candidates that
/// do not nest are not trusted.
///
/// Every GPA here is as the guest's tables give it: with TDX's shared bit (an address bit to
/// the TD), without SNP's C-bit (`encryptionMask`, dropped in every walk).
enum FaultingAccess {
    /// The GVA where the instruction that retired a `written`-byte write to `gpa` begins, or
    /// nil when no candidate fits (a write the opcode implies, such as push or stos) or
    /// several unrelated ones do.
    static func instructionStart(
        ripAfter: UInt64, wrote gpa: UInt64, bytes written: Int, regs: Registers, sregs: SpecialRegisters,
        memory: GuestMemory, encryptionMask: UInt64
    ) -> UInt64? {
        var bytes: [UInt8] = []
        for offset in (1...X86Instruction.maximumLength).reversed() {
            guard let byte = code(at: ripAfter &- UInt64(offset), sregs: sregs, memory: memory, encryptionMask: encryptionMask) else {
                bytes.removeAll() // only the bytes right before RIP count
                continue
            }
            bytes.append(byte)
        }
        guard !bytes.isEmpty else { return nil }
        var lengths: [Int] = []
        for length in 1...bytes.count {
            guard let decoded = X86Instruction.decode(bytes[(bytes.count - length)...], bits32: bits32(sregs)), decoded.length == length,
                decoded.operandBytes.map({ $0 == written }) ?? true,
                let address = effectiveAddress(decoded, nextRIP: ripAfter, regs: regs, sregs: sregs),
                linearAddress(of: address, reaching: gpa, sregs: sregs, memory: memory, encryptionMask: encryptionMask) != nil
            else { continue }
            lengths.append(length)
        }
        // Every shorter candidate must be a suffix the longest one's prefixes explain.
        guard let longest = lengths.last,
            lengths.allSatisfy({ $0 == longest || bytes[(bytes.count - longest)..<(bytes.count - $0)].allSatisfy(isPrefix) })
        else { return nil }
        return ripAfter &- UInt64(longest)
    }

    /// The linear address at which the instruction at `rip` touched `gpa`: its memory operand's
    /// effective address, or where that access enters `gpa`'s page when it crosses into it;
    /// nil when the instruction has no ModRM memory operand reaching `gpa`.
    static func linearAddress(
        instructionAt rip: UInt64, accessed gpa: UInt64, regs: Registers, sregs: SpecialRegisters,
        memory: GuestMemory, encryptionMask: UInt64
    ) -> UInt64? {
        var bytes: [UInt8] = []
        for offset in 0..<UInt64(X86Instruction.maximumLength) {
            guard let byte = code(at: rip &+ offset, sregs: sregs, memory: memory, encryptionMask: encryptionMask) else { break }
            bytes.append(byte)
        }
        guard let decoded = X86Instruction.decode(bytes[...], bits32: bits32(sregs)),
            let address = effectiveAddress(decoded, nextRIP: rip &+ UInt64(decoded.length), regs: regs, sregs: sregs)
        else { return nil }
        return linearAddress(of: address, reaching: gpa, sregs: sregs, memory: memory, encryptionMask: encryptionMask)
    }

    /// Whether the vCPU runs 32-bit protected-mode code (CS.D set, not in 64-bit mode), which
    /// decodes apart from 64-bit code (`X86Instruction.decode`); 16-bit code is not decoded.
    private static func bits32(_ sregs: SpecialRegisters) -> Bool {
        sregs.cr0 & BootState.cr0ProtectedMode != 0 && sregs.cs.l == 0 && sregs.cs.db == 1
    }

    /// A ModRM operand's effective address (SDM vol. 1 §3.7.5): base + index * scale +
    /// displacement, or the next RIP + displacement, at the operand's address size, plus the
    /// FS/GS base under those prefixes (the other segments have base 0 in 64-bit mode).
    private static func effectiveAddress(_ decoded: X86Instruction, nextRIP: UInt64, regs: Registers, sregs: SpecialRegisters) -> UInt64? {
        guard case .modRM(let base, let index, let scale, let displacement, let ripRelative, let addressSize32, let segment)? = decoded.memory
        else { return nil }
        var address = ripRelative ? nextRIP : base.map { regs.general($0) } ?? 0
        address &+= index.map { regs.general($0) &* scale } ?? 0
        address &+= UInt64(bitPattern: displacement)
        if addressSize32 { address &= 0xFFFF_FFFF }
        if segment == 0x64 { address &+= sregs.fs.base } else if segment == 0x65 { address &+= sregs.gs.base }
        return address
    }

    /// Where an access of at most 64 bytes (a ZMM register) at `address` touches `gpa`: in its
    /// own page, or, when it crosses, at the start of the next.
    private static func linearAddress(
        of address: UInt64, reaching gpa: UInt64, sregs: SpecialRegisters, memory: GuestMemory,
        encryptionMask: UInt64
    ) -> UInt64? {
        let widest: UInt64 = 64
        let toBoundary = 0x1000 - (address & 0xFFF)
        let pieces: [(gva: UInt64, bytes: UInt64)] =
            toBoundary < widest
            ? [(address, toBoundary), (address &+ toBoundary, widest - toBoundary)] : [(address, widest)]
        for piece in pieces {
            guard let physical = GuestPageWalk.physicalAddress(ofLinear: piece.gva, sregs: sregs, memory: memory, encryptionMask: encryptionMask),
                gpa >= physical, gpa - physical < piece.bytes
            else { continue }
            return piece.gva
        }
        return nil
    }

    /// A code byte as the vCPU fetches it: through its paging mode's walk, or the linear
    /// address itself while paging is off (`GuestPageWalk.codeByte`).
    private static func code(at gva: UInt64, sregs: SpecialRegisters, memory: GuestMemory, encryptionMask: UInt64) -> UInt8? {
        GuestPageWalk.codeByte(at: gva, sregs: sregs, memory: memory, encryptionMask: encryptionMask)
    }

    /// Legacy prefixes and REX (SDM vol. 2 §2.1.1, §2.2.1).
    private static func isPrefix(_ byte: UInt8) -> Bool {
        [0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3].contains(byte) || byte & 0xF0 == 0x40
    }
}
