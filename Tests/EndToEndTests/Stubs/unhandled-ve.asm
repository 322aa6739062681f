; unhandled-ve.asm — a TD (run with SEPT_VE_DISABLE clear) that reads RAM outside its plan
; without accepting it and installs no #VE hook: the runtime's handler must report what
; TDG.VP.VEINFO.GET says of the #VE (exit reason 48, EPT violation; the GPA) before stopping.
; It speaks TDX first (TDG.VP.INFO), as any TD does, which links the TDX library.
%include "enlighten.inc"
%include "interfaces.inc"

OUTSIDE_PLAN_GPA equ 0x400000
READ_OFFSET      equ 0x18        ; within the page: the GPA and GLA reported are exact

global main

section .text
main:
    call tdx_info
    mov rax, OUTSIDE_PLAN_GPA + READ_OFFSET
read_here:
    mov rax, [rax]
    xor eax, eax
    ret
