; raw-wrmsr.asm — a stub that writes 0 to IA32_MISC_ENABLE (0x1A0) with a raw `wrmsr`, then
; returns 0. On SEV-SNP and TDX the write never reaches KVM: #VC 0x7C (SVM_EXIT_MSR) or #VE with
; exit reason 32 (the TDX module's table has MISC_ENABLE writes exit) at the instruction, and
; with no handler the run stops there with the MSR named.

%include "enlighten.inc"

MSR_MISC_ENABLE equ 0x1A0

section .text
global main
global raw_wrmsr
main:
    mov ecx, MSR_MISC_ENABLE
    xor eax, eax
    xor edx, edx
raw_wrmsr:
    wrmsr
    xor eax, eax
    ret
