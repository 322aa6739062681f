; outside-plan.asm — reads guest RAM its plan does not populate (4 MiB: RAM, but no plan
; range), without converting, validating or accepting it first. On TDX and SEV-SNP that RAM
; is private but pending at launch, so the read is the bug the platform catches; on KVM it is
; ordinary memory and the stub passes.
%include "enlighten.inc"

OUTSIDE_PLAN_GPA equ 0x400000

global main

section .text
main:
    mov rax, OUTSIDE_PLAN_GPA
read_here:
    mov rax, [rax]
    xor eax, eax
    ret
