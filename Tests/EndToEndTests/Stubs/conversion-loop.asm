; conversion-loop.asm — 10^6 conversions of one 4 KiB page, alternately to shared and back
; to private, through whichever interface the platform speaks. The host logs the first
; --max-events of them and counts the rest; its memory must stay within the documented bound.
; Records: VALUE loop.done (the number of conversions that succeeded) when the loop ends.
%include "enlighten.inc"
%include "interfaces.inc"

CONVERSIONS     equ 1000000
PAGE_GPA        equ 0x400000

PLAN_RANGE PAGE_GPA, PAGE_GPA + 0x200000, PLAN_ZERO, PLAN_PRIVATE, "loop-area"

global main

section .text
main:
    push rbx
    push r12
    xor ebx, ebx                        ; conversions done
    xor r12d, r12d                      ; successes
.next:
    mov edi, PAGE_GPA
    mov esi, EN_PAGE_SIZE
    mov edx, EN_TO_SHARED
    test ebx, 1
    jz .convert
    mov edx, EN_TO_PRIVATE
.convert:
    call en_convert
    test rax, rax
    jnz .failed
    inc r12
.failed:
    inc ebx
    cmp ebx, CONVERSIONS
    jb .next
    VALUE "loop.done", r12
    pop r12
    pop rbx
    xor eax, eax
    ret
