; tdx-forwarded-hlt.asm — a raw HLT in a TD, with the library's #VC/#VE handler installed.
;
; A TD cannot execute HLT: the TDX module injects #VE with exit reason 12 (EXIT_REASON_HLT)
; and the instruction's length (Linux arch/x86/coco/tdx/tdx.c virt_exception_kernel), and
; the handler (GuestStubs/abi/ve_forward.asm) asks the VMM to halt the vCPU with
; TDG.VP.VMCALL<Instruction.HLT>, R12 = 1 as the runtime runs with interrupts disabled (Linux
; __halt(irq_disabled)). KVM halts the vCPU until an interrupt wakes it; the runner has no
; interrupt source, so the run ends there, "halted in TDVMCALL<Instruction.HLT> with
; interrupts blocked" — not at the HLT itself, which would mean it was executed.
;
; Records: CHECK hlt.platform (3, EN_PLATFORM_TDX, before the HLT). Nothing after the HLT runs.

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

section .text
scenario:
    REQUIRE_PLATFORM EN_PLATFORM_TDX, "hlt.platform"
    call en_forward_intercepts
    hlt
    EXPECT "hlt.resumed", 0, 1          ; never reached: the vCPU stays halted
    ret
