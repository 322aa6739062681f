; checks.asm — one passing and one failing CHECK, and a VALUE: the host must report the
; failing check by name with both values, and fail the run although the exit code is 0.
%include "enlighten.inc"

global main

section .text
main:
    mov rax, 42
    CHECK "answer", rax, 42
    mov rax, 7
    CHECK "deliberately-wrong", rax, 8
    VALUE "cookie", 0x1234
    xor eax, eax
    ret
