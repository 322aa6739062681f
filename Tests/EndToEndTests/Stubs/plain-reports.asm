; plain-reports.asm — a stub that only reports: a LOG line, a CHECK, exit code 0. It speaks
; no interface itself, so every port access of the run is the runtime's own (presence read,
; records, exit code): RuntimeProtocolTests checks they are forwarded on SEV-SNP and TDX.

%include "enlighten.inc"

section .text
global main
main:
    LOG "plain reports"
    CHECK "plain.one", 1, 1
    xor eax, eax
    ret
