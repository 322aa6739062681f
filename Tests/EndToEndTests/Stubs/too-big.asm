; too-big.asm — plans a range at 128 MiB: a run with less guest RAM must be refused before
; anything runs, naming the range's end and the RAM it has.
%include "enlighten.inc"

PLAN_RANGE 0x8000000, 0x8200000, PLAN_ZERO, PLAN_PRIVATE, "beyond-64M"

global main

section .text
main:
    xor eax, eax
    ret
