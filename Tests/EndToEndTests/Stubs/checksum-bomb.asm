; checksum-bomb.asm — one CHECKSUM record naming 3 GiB from GPA 0, far more than the plan
; populated. The host must answer it as a malformed record at once (a CHECKSUM may name only
; ranges the plan populated), not checksum 3 GiB after the guest ended.
%include "enlighten.inc"

BOMB_LENGTH     equ 0xC0000000

global main

section .rodata
name:           db "bomb"
name_length     equ $ - name

section .data
align 8
record:
    dd EN_RECORD_MAGIC
    db EN_RECORD_CHECKSUM
    db name_length
    dw EN_RECORD_HEADER_SIZE + name_length
    dq 0                                ; a: GPA
    dq BOMB_LENGTH                      ; b: length
    dq 0x12345678                       ; c: the guest's CRC (any value)
    dq 0                                ; d
    db "bomb"

section .text
main:
    lea rax, [rel record]
    mov dx, EN_PORT_RECORD
    out dx, eax
    xor eax, eax
    ret
