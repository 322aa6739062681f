; bench-exits.asm — the guest of `enlighten bench`'s per-exit figure (docs/benchmarks.md).
;
; BENCH_EXITS writes to the POST port 0x80, which every host ignores: the cheapest exit
; there is, so the loop measures the exit path itself and as little else as possible. The
; floor (Benchmarks/Floor) runs this very image, so both sides execute the same
; instructions. Keep the loop tiny: on emulating backends (kvm_pvm) each guest
; instruction costs about as much as a small fraction of an exit.
;
; Exits per run: 1 (the runtime's presence read) + BENCH_EXITS + 1 (the exit code).

%include "enlighten.inc"

BENCH_EXITS     equ 20000

global main

section .text
main:
    mov ecx, BENCH_EXITS
.loop:
    out 0x80, al
    dec ecx
    jnz .loop
    xor eax, eax
    ret
