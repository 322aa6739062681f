; flood.asm — sends report records that are all wrong in some way (outside RAM, bad magic,
; bad lengths), more of them than the host accepts. The host must report each, then stop
; the run with "report channel flooded", and never crash.
%include "enlighten.inc"

BAD_RECORDS     equ 100
OUTSIDE_RAM     equ 0xBFFFFFF0          ; below the ROM, above any default RAM

global main

section .bss
garbage:        resb 64

section .text
main:
    push rbx
    mov ebx, BAD_RECORDS
.next:
    ; Alternate a pointer outside guest RAM with a record of random-looking bytes in RAM.
    test ebx, 1
    jz .in_ram
    mov eax, OUTSIDE_RAM
    jmp .send
.in_ram:
    mov eax, garbage
    mov dword [rax], ebx                 ; not the magic
    mov dword [rax + 4], 0xFFFFFFFF      ; unknown type, absurd lengths
.send:
    mov dx, EN_PORT_RECORD
    out dx, eax
    dec ebx
    jnz .next
    pop rbx
    xor eax, eax
    ret
