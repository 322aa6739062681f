; spin.asm — never returns: the host's watchdog must stop it and say where it was.
%include "enlighten.inc"

global main

section .text
main:
    LOG "spinning"
spin_here:
    jmp spin_here
