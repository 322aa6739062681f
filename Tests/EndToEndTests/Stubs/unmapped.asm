; unmapped.asm — reads a GPA that the page tables map (the low 4 GiB are identity-mapped)
; but no memslot backs: the host must report the access with its GPA.
%include "enlighten.inc"

UNBACKED_GPA    equ 0x80000000      ; 2 GiB: above any default guest RAM, below the ROM

global main

section .text
main:
    mov rax, UNBACKED_GPA
touch_here:
    mov rax, [rax]
    xor eax, eax
    ret
