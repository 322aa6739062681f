/// A ModRM memory operand, as decoded: the inputs of its effective-address computation
/// (Intel SDM vol. 2 §2.1.5, tables 2-1 to 2-3 for 16/32-bit addressing, §2.2.1.6 for
/// RIP-relative addressing in 64-bit mode) and the segment it is taken in.
///
/// Registers are numbered as in the ModRM/SIB fields with REX extension, which is also
/// the order of `struct kvm_regs`' first sixteen fields minus RIP: 0 rAX, 1 rCX, 2 rDX,
/// 3 rBX, 4 rSP, 5 rBP, 6 rSI, 7 rDI, 8–15 R8–R15.
public struct MemoryOperand: Equatable, Sendable {
    /// The base register, if any.
    public var base: Int?
    /// The index register, if any.
    public var index: Int?
    /// The index's scale: 1, 2, 4 or 8.
    public var scale: UInt64
    /// The sign-extended displacement.
    public var displacement: Int64
    /// Whether the address is relative to the next instruction (64-bit mode, mod 00 r/m 101).
    public var ripRelative: Bool
    /// The address size: 16, 32 or 64 bits after any 67h prefix.
    public var addressSize: CodeSize
    /// The segment the access uses: an override prefix, else SS for a rBP/rSP base, else DS.
    public var segment: SegmentRegister
    /// Whether `segment` came from a prefix.
    public var segmentOverridden: Bool

    /// The effective address (the offset within the segment), truncated to the address
    /// size. `register(n)` reads general register n (numbering above); `instructionEnd` is
    /// the address of the next instruction, the base of RIP-relative addressing.
    public func effectiveAddress(register: (Int) -> UInt64, instructionEnd: UInt64) -> UInt64 {
        var address = UInt64(bitPattern: displacement)
        if ripRelative { address &+= instructionEnd }
        if let base { address &+= register(base) }
        if let index { address &+= register(index) &* scale }
        switch addressSize {
        case .bits16: return address & 0xFFFF
        case .bits32: return address & 0xFFFF_FFFF
        case .bits64: return address
        }
    }

    /// The linear address of `effectiveAddress` in a segment with base `segmentBase`, in code
    /// of `codeSize`. In 64-bit mode only FS and GS have a base (SDM vol. 3 §3.4.4); outside
    /// it linear addresses are 32 bits wide.
    public func linearAddress(effectiveAddress: UInt64, segmentBase: UInt64, codeSize: CodeSize) -> UInt64 {
        if codeSize == .bits64 {
            return segment == .fs || segment == .gs ? effectiveAddress &+ segmentBase : effectiveAddress
        }
        return (effectiveAddress &+ segmentBase) & 0xFFFF_FFFF
    }
}
