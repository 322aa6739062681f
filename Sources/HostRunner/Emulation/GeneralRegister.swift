import KVM

extension Registers {
    /// The general-purpose register with the ModRM/SIB number `number`, REX extension
    /// included (Intel SDM vol. 2 §2.1.5: rAX 0, rCX 1, rDX 2, rBX 3, rSP 4, rBP 5, rSI 6,
    /// rDI 7, R8–R15 8–15).
    func general(_ number: Int) -> UInt64 {
        switch number {
        case 0: rax
        case 1: rcx
        case 2: rdx
        case 3: rbx
        case 4: rsp
        case 5: rbp
        case 6: rsi
        case 7: rdi
        case 8: r8
        case 9: r9
        case 10: r10
        case 11: r11
        case 12: r12
        case 13: r13
        case 14: r14
        default: r15
        }
    }
}
