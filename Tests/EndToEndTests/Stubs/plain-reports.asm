; plain-reports.asm — a stub that only reports: a LOG line, a CHECK, a CHECKSUM (whose CRC32C
; asks CPUID for SSE4.2 once), exit code 0. It speaks no interface itself, so every port access
; and CPUID request of the run is the runtime's own: RuntimeProtocolTests checks they are
; forwarded on SEV-SNP and TDX, and raw on KVM.

%include "enlighten.inc"

extern __en_rdmsr_safe                  ; runtime/idt.asm

section .rodata
checksum_name:  db "plain.code", 0

section .text
global main
main:
    LOG "plain reports"
    CHECK "plain.one", 1, 1
    lea rdi, [rel checksum_name]
    lea rsi, [rel main]                 ; direct64: the image is identity-mapped
    mov edx, 64
    call en_checksum
    ; The runtime's fault-tolerant RDMSR (runtime/idt.asm), which en_platform's first probe
    ; uses: SEV_STATUS exists on SEV-SNP only.
    mov ecx, 0xC0010131
    call __en_rdmsr_safe
    setc al
    movzx eax, al
    VALUE "rdmsr_safe.sev_status.faulted", rax
    xor eax, eax
    ret
