; reset16.asm — firmware layout only: reset vector, the 16/32-bit path to long mode, AP entry.
;
; The vCPU starts in real mode at 0xFFFFFFF0 with CS base 0xFFFF0000 (so CS-relative offsets
; of the top 64 KiB are address - 0xFFFF0000). This host's KVM emulates real and protected
; mode one instruction at a time (~0.6 µs each; shared/HOST-NOTES.md), so the path is a few
; instructions long and touches memory once (lgdt). No x87, nothing vendor-specific.
;   real mode:   lgdt (32-bit base, o32), CR0.PE, far jump with a 32-bit offset
;   32-bit mode: edi = initial APIC ID (CPUID.1:EBX[31:24]), CR4.PAE, CR3 = __enlighten_pml4,
;                EFER.LME, CR0 = paging on, far jump to 64-bit code
;   64-bit mode: _start64 (entry.asm), which expects edi = vCPU index.

%include "internal.inc"

%ifdef LAYOUT_FIRMWARE

global __enlighten_reset_vector
global __enlighten_reset16
extern __enlighten_gdt
extern __enlighten_pml4
extern _start64

; Firmware.ld places .text16 here; its own ASSERT keeps this in step.
TEXT16_ADDRESS      equ 0xFFFFF000
RESET_CS_BASE       equ 0xFFFF0000      ; CS base after reset
TEXT16_CS_OFFSET    equ TEXT16_ADDRESS - RESET_CS_BASE
EFER_HIGH_BITS      equ 0               ; edx half of the EFER write

section .text16 progbits alloc exec nowrite align=16

bits 16
__enlighten_reset16:
    o32 lgdt [cs:TEXT16_CS_OFFSET + (gdtr32 - $$)]
    mov eax, EN_CR0_PE | EN_CR0_ET       ; also clears CD/NW from the reset value
    mov cr0, eax
    jmp dword EN_SEL_CODE32:protected32

bits 32
protected32:
    ; No data segment is loaded here: nothing below reads memory, and _start64 loads them all.
    mov eax, EN_CPUID_FEATURES
    cpuid
    shr ebx, EN_CPUID_APIC_ID_SHIFT
    mov edi, ebx
    mov eax, EN_CR4_PAE
    mov cr4, eax
    mov eax, __enlighten_pml4            ; below 4 GiB: in ROM here
    mov cr3, eax
    mov ecx, EN_MSR_EFER
    mov eax, EN_EFER_LME                 ; EFER is 0 after reset: write, no read needed
    mov edx, EFER_HIGH_BITS
    wrmsr
    mov eax, EN_CR0_LONG                 ; paging on with LME set: long mode is active
    mov cr0, eax
    jmp EN_SEL_CODE64:_start64

    align 4
gdtr32:                                  ; for lgdt in real mode: limit, 32-bit base
    dw EN_GDT_LIMIT
    dd __enlighten_gdt

; At 0xFFFFFFF0: the first instruction the vCPU runs. A near jump stays within CS.
section .resetvector progbits alloc exec nowrite align=16
bits 16
__enlighten_reset_vector:
    jmp near __enlighten_reset16
    times 16 - ($ - $$) hlt

; At 0xFFFFFFE0: where an AP parked at the reset vector area would start; APs are not woken
; by this runtime, so it only stops them.
section .apentry progbits alloc exec nowrite align=16
bits 16
ap_entry:
    cli
.halt:
    hlt
    jmp .halt
    times 16 - ($ - $$) hlt

%endif ; LAYOUT_FIRMWARE
