; raw-cpuid.asm — a stub that executes a raw CPUID of leaf 0 (which the TDX module answers
; itself) and then of leaf 0x40000000 (the hypervisor range, which it does not), then returns 0.
; On SEV-SNP hardware the first CPUID is #VC 0x72 (every CPUID is intercepted); in a TD the
; second is #VE with exit reason 10. Neither is executed, and this stub has no handler, so
; the run stops there. The runner catches raw CPUID only under --catch-cpuid (KVM answers
; CPUID itself); without it the stub passes on every platform.

%include "enlighten.inc"

CPUID_BASIC_MAX     equ 0
CPUID_HYPERVISOR    equ 0x40000000

section .text
global main
global raw_cpuid_basic
global raw_cpuid_hypervisor
main:
    push rbx                            ; CPUID writes EBX, which System V keeps
    mov eax, CPUID_BASIC_MAX
    xor ecx, ecx
raw_cpuid_basic:
    cpuid
    mov eax, CPUID_HYPERVISOR
    xor ecx, ecx
raw_cpuid_hypervisor:
    cpuid
    pop rbx
    xor eax, eax
    ret
