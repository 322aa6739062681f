; value-flood.asm — VALUE records as fast as the host can take them, forever: one prepared
; record with a 200-byte name, its GPA sent 1024 times per exit with `rep outsd`. The host
; keeps the first --max-events of them and counts the rest; its memory must stay within the
; documented bound until the watchdog stops the guest.
%include "enlighten.inc"

PER_EXIT        equ 1024

global main

section .rodata
name:           times 200 db "v"
name_length     equ $ - name

section .data
align 8
record:
    dd EN_RECORD_MAGIC
    db EN_RECORD_VALUE
    db name_length
    dw EN_RECORD_HEADER_SIZE + name_length
    dq 0x1234                           ; a: the value
    dq 0, 0, 0
    times name_length db "v"

section .bss
alignb 4096
gpas:           resd PER_EXIT

section .text
main:
    ; The table of GPAs: the record's, PER_EXIT times (RAM sections are reached absolutely).
    mov edi, gpas
    lea rax, [rel record]
    mov ecx, PER_EXIT
    rep stosd
flood_here:
    mov esi, gpas
    mov ecx, PER_EXIT
    mov dx, EN_PORT_RECORD
    rep outsd
    jmp flood_here
