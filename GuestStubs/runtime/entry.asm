; entry.asm — the 64-bit entry both layouts end in, and the code around `main`.
;
; _start64 (ELF entry of direct64; the firmware reset path jumps here too):
;   in:  64-bit mode, CPL 0, paging on __enlighten_pml4, edi = vCPU index, interrupts off;
;        no usable stack, GDT or IDT assumed.
;   does: pick this vCPU's stack, load the runtime GDT and reload every segment register,
;        load the IDT, read the host-presence port once, call main(edi = vCPU index),
;        report main's eax on port 0xF4 and halt. Never returns.
; Exports __enlighten_host_present (byte: 1 when the host answered EN_HOST_PRESENT).

%include "internal.inc"

global _start64
global __enlighten_host_present
global __enlighten_stacks
extern main
extern en_done
extern __en_done_raw
extern __en_in8
extern __enlighten_gdtr64
extern __enlighten_idt_load

section .bss nobits alloc noexec write align=16
__enlighten_stacks:         resb EN_MAX_VCPUS * EN_STACK_SIZE
__enlighten_host_present:   resb 1

section .rodata progbits alloc noexec nowrite align=1
too_many_vcpus:     db "enlighten: vCPU index too large for the runtime's stacks", 10
too_many_vcpus_len  equ $ - too_many_vcpus

; The linker scripts place .text.entry first, so _start64 is the image's first byte (direct64).
section .text.entry progbits alloc exec nowrite align=16
_start64:
    cld                                 ; the System V ABI expects DF = 0 at every call
    mov edi, edi                        ; the reset path leaves the upper half undefined
    cmp edi, EN_MAX_VCPUS
    jae .too_many_vcpus

    ; Runtime GDT, then every data segment register. The stack below depends on SS.
    lgdt [rel __enlighten_gdtr64]
    mov eax, EN_SEL_DATA
    mov ds, eax
    mov es, eax
    mov ss, eax
    mov fs, eax
    mov gs, eax

    ; rsp = top of stack number edi. Stacks are in RAM (.bss, below 2 GiB in both layouts),
    ; too far from the firmware layout's code for RIP-relative addressing.
    mov eax, edi
    inc eax
    shl eax, EN_STACK_SHIFT
    add eax, __enlighten_stacks
    mov esp, eax                        ; zero-extends: rsp = the stack top

    ; CS can only be reloaded through a far transfer: return to .reloaded with EN_SEL_CODE64.
    push EN_SEL_CODE64
    lea rax, [rel .reloaded]
    push rax
    o64 retf
.reloaded:
    mov ebx, edi                        ; the vCPU index survives the calls below in ebx
    call __enlighten_idt_load

    ; Presence: read once, cached for the report routines (every vCPU writes the same value).
    mov edi, EN_PORT_RECORD
    call __en_in8                       ; raw, or the platform's protocol (portio.asm)
    cmp al, EN_HOST_PRESENT
    sete byte [abs __enlighten_host_present]

    mov edi, ebx
    call main
    mov edi, eax
    jmp en_done

.too_many_vcpus:
    ; No stack exists for this vCPU, so no record either: plain text, then stop.
    lea rsi, [rel too_many_vcpus]
    mov ecx, too_many_vcpus_len
    mov edx, EN_PORT_DEBUGCON
    rep outsb
    mov edi, EN_EXIT_TOO_MANY_VCPUS
    jmp __en_done_raw                   ; needs no stack
