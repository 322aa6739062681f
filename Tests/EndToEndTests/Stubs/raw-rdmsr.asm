; raw-rdmsr.asm — a stub that reads IA32_APIC_BASE (0x1B) with a raw `rdmsr`, as a stub
; written for plain KVM would, reports it and returns 0. On SEV-SNP and TDX hardware the
; instruction is not executed: #VC with error code 0x7C (SVM_EXIT_MSR) or #VE with exit reason
; 31 at it, and this stub has no handler, so the run stops there with the exception and the
; MSR named. On KVM it reads KVM's value.

%include "enlighten.inc"

MSR_APIC_BASE   equ 0x1B

section .text
global main
global raw_rdmsr
main:
    mov ecx, MSR_APIC_BASE
raw_rdmsr:
    rdmsr
    shl rdx, 32
    or rax, rdx
    VALUE "raw.apic_base", rax
    xor eax, eax
    ret
