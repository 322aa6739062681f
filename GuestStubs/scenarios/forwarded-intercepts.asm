; forwarded-intercepts.asm — a stub that executes raw IN and OUT, as code written for a plain
; machine does, with the library's #VC/#VE handler installed (en_forward_intercepts): on
; SEV-SNP and TDX each port instruction raises #VC 0x7B / #VE 30 and the handler forwards it to
; the host (GHCB IOIO NAE event / TDVMCALL<Instruction.IO>) and resumes after it with the
; host's answer, so the stub sees what it would see on KVM, where nothing is intercepted.
; (CPUID through the same handler: raw-cpuid-caught.asm, which needs --catch-cpuid.)
;
; Expected values (the same on every platform: each is what the instruction gives on KVM):
;   IN AL, 0xEA (imm8): the presence byte 0xE7 merged into AL, RAX's other bytes kept.
;   IN AX, DX (66 ED) from a port nobody decodes: 0xFFFF merged into AX (floating bus).
;   IN EAX, DX from it: 0xFFFFFFFF, zero-extended into RAX (a 32-bit write clears bits 63:32).
;   RDMSR of IA32_APIC_BASE: 0xFEE00900 in EDX:EAX — base 0xFEE00000, enable (bit 11), BSP
;   (bit 8); forwarded as a GHCB MSR NAE event / TDVMCALL<RDMSR> to KVM's emulation (Intel SDM
;   vol. 3 §11.4.4; KVM kvm_lapic_reset for the boot vCPU).
;   OUT DX, EAX of a VALUE record's GPA to the record port: the host logs VALUE
;   forwarded.record = 0x465744 ("FWD"); OUT 0xE9, AL of each byte of "fwd console": that log
;   line (imm8 form).
;
; Records: CHECK fwd.in8, fwd.in16, fwd.in32, fwd.rdmsr.eax, fwd.rdmsr.edx; VALUE
; forwarded.record.

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "nae.inc"

RECORD_VALUE    equ 0x465744            ; "FWD"
UNKNOWN_PORT    equ 0x1234
RAX_BEFORE      equ 0x1122334455667700
RAX_BEFORE_16   equ 0x1122334455660000
IN8_EXPECTED    equ RAX_BEFORE | EN_HOST_PRESENT
FLOATING_BUS_16 equ 0xFFFF              ; what a read of a port nobody decodes gives
FLOATING_BUS_32 equ 0xFFFFFFFF
IN16_EXPECTED   equ RAX_BEFORE_16 | FLOATING_BUS_16
IN32_EXPECTED   equ FLOATING_BUS_32
MSR_IA32_APIC_BASE equ 0x1B
APIC_BASE_BSP_ENABLED equ 0xFEE00900    ; base 0xFEE00000 | enable (bit 11) | BSP (bit 8)
EDX_BEFORE      equ 0x5A5A5A5A

section .rodata
console_text:   db "fwd console"
console_length  equ $ - console_text

section .text

scenario:
    call en_forward_intercepts

    mov rax, RAX_BEFORE
    in al, EN_PORT_RECORD
    mov r13, IN8_EXPECTED
    EXPECT "fwd.in8", rax, r13

    mov rax, RAX_BEFORE
    mov edx, UNKNOWN_PORT
    in ax, dx
    mov r13, IN16_EXPECTED
    EXPECT "fwd.in16", rax, r13

    mov rax, RAX_BEFORE
    mov edx, UNKNOWN_PORT
    in eax, dx
    mov r13d, IN32_EXPECTED
    EXPECT "fwd.in32", rax, r13

    mov ecx, MSR_IA32_APIC_BASE
    mov edx, EDX_BEFORE
    rdmsr
    mov r12, rdx
    mov r13d, APIC_BASE_BSP_ENABLED
    EXPECT "fwd.rdmsr.eax", rax, r13
    xor r13d, r13d
    EXPECT "fwd.rdmsr.edx", r12, r13

    mov edi, RECORD_VALUE
    call build_record                   ; rax = the record's GPA
    mov edx, EN_PORT_RECORD
    out dx, eax

    xor r15d, r15d
.console:
    lea rax, [rel console_text]
    movzx eax, byte [rax + r15]
    out EN_PORT_DEBUGCON, al
    inc r15
    cmp r15, console_length
    jb .console
    mov al, `\n`
    out EN_PORT_DEBUGCON, al

    ret
