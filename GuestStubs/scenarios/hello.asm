; hello.asm — the smallest scenario: one log line, one checksum of a known payload, exit 0.
;
; The payload is 8 KiB in .payload.measured: 2048 little-endian dwords 0x454E0000 + i
; ("EN" in the top half, the dword's index in the bottom half), so a dump shows where each
; byte came from. The host compares the CRC32C reported under "payload" with the bytes it
; pre-populated.

%include "enlighten.inc"

PAYLOAD_DWORDS  equ 2048
PAYLOAD_SIZE    equ PAYLOAD_DWORDS * 4
PAYLOAD_TAG     equ 0x454E0000

global main

EN_SECTION_PAYLOAD_MEASURED
payload:
%assign i 0
%rep PAYLOAD_DWORDS
    dd PAYLOAD_TAG + i
    %assign i i + 1
%endrep
%if $ - payload != PAYLOAD_SIZE
  %error payload size
%endif

section .rodata
payload_name:   db "payload", 0

section .text
main:
    LOG "hello from enlighten"
    lea rdi, [rel payload_name]
    lea rsi, [rel payload]
    mov edx, PAYLOAD_SIZE
    call en_checksum
    xor eax, eax
    ret
