; bench-tdvmcall-io.asm — the guest of `enlighten bench`'s TDVMCALL Instruction.IO round-trip
; figure (docs/benchmarks.md): BENCH_REQUESTS OUTs of one byte to the POST port 0x80, each
; forwarded as TDG.VP.VMCALL<Instruction.IO> (what a #VE handler does for an `out`): R10 0,
; R11 30, R12 size 1, R13 1 (write), R14 the port, R15 the byte, R10-R15 exposed, TDCALL at
; this stub's own request site. One exit a request, as on TDX hardware.

%include "enlighten.inc"
%include "interfaces.inc"
%include "bench-trap.inc"

POST_PORT       equ 0x80
IO_WRITE        equ 1

global main
global __enlighten_site_bench_tdvmcall

section .text
main:
    EN_SAVE_NONVOLATILE
    mov ebx, BENCH_REQUESTS
request_loop:
    xor eax, eax                        ; TDG.VP.VMCALL
    mov ecx, TDX_VMCALL_EXPOSE_R10_R15
    xor r10d, r10d                      ; TDX_HYPERCALL_STANDARD
    mov r11d, TDVMCALL_IO
    mov r12d, 1
    mov r13d, IO_WRITE
    mov r14d, POST_PORT
    mov r15d, ebx
__enlighten_site_bench_tdvmcall:
    db 0x66, 0x0f, 0x01, 0xcc           ; TDCALL: trapped before it executes; the host skips it
    dec ebx
    jnz request_loop
    xor eax, eax
    EN_RESTORE_NONVOLATILE
    ret
