; triple-fault.asm — loads an empty IDT, then executes ud2 at `fault_here`: #UD cannot be
; delivered, nor can the #DF that follows, so the vCPU shuts down. The host must report a
; triple fault symbolized as `fault_here`.
%include "enlighten.inc"

global main

section .rodata
empty_idt:
    dw 0            ; limit 0: no vector is deliverable
    dq 0

section .text
main:
    lidt [rel empty_idt]
fault_here:
    ud2
    ret
