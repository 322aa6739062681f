import GuestABI
import KVM

/// TDCALL's register set to and from the vCPU's general registers (RSP is never part of it).
extension TDCallRegisters {
    init(_ regs: Registers) {
        self.init()
        rax = regs.rax; rcx = regs.rcx; rdx = regs.rdx; rbx = regs.rbx; rbp = regs.rbp
        rsi = regs.rsi; rdi = regs.rdi; r8 = regs.r8; r9 = regs.r9; r10 = regs.r10
        r11 = regs.r11; r12 = regs.r12; r13 = regs.r13; r14 = regs.r14; r15 = regs.r15
    }

    func store(into regs: inout Registers) {
        regs.rax = rax; regs.rcx = rcx; regs.rdx = rdx; regs.rbx = rbx; regs.rbp = rbp
        regs.rsi = rsi; regs.rdi = rdi; regs.r8 = r8; regs.r9 = r9; regs.r10 = r10
        regs.r11 = r11; regs.r12 = r12; regs.r13 = r13; regs.r14 = r14; regs.r15 = r15
    }
}
