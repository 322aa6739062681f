; bench-trap-tdx.asm — the guest of `enlighten bench`'s TDVMCALL MapGPA round-trip figure
; (docs/benchmarks.md): one 4 KiB page flipped private -> shared -> private ... BENCH_REQUESTS
; times, each flip one TDG.VP.VMCALL<MapGPA>, trapped at this stub's own request site.
;
; The shared bit comes from TDG.VP.INFO once, through the library, before the loop. In the
; loop only what the VMCALL overwrites is reloaded (rax, r10, r11) and the shared bit of the
; GPA in r12 toggled; r13 (size) and rcx (the exposed-register mask) stay. Results are not
; checked here: the host records every request and `enlighten bench` fails the figure if
; any was rejected.

%include "enlighten.inc"
%include "interfaces.inc"
%include "bench-trap.inc"

global main
global __enlighten_site_bench_tdx

extern tdx_shared_bit

section .text
main:
    push rbx
    push r12
    push r13
    push r14
    call tdx_shared_bit
    mov rbx, rax
    mov eax, 1                          ; exit code 1: no usable GPAW
    test rbx, rbx
    jz done
    mov r14d, BENCH_REQUESTS
    mov r12d, FLIP_GPA
    or r12, rbx                         ; the first flip asks for shared
    mov r13d, EN_PAGE_SIZE
    mov ecx, TDX_VMCALL_EXPOSE_R10_R15
flip_loop:
    xor eax, eax                        ; TDG.VP.VMCALL
    xor r10d, r10d                      ; TDX_HYPERCALL_STANDARD
    mov r11d, TDVMCALL_MAP_GPA
__enlighten_site_bench_tdx:
    db 0x66, 0x0f, 0x01, 0xcc           ; TDCALL: trapped before it executes; the host skips it
    xor r12, rbx                        ; the next flip goes the other way
    dec r14d
    jnz flip_loop
    xor eax, eax
done:
    pop r14
    pop r13
    pop r12
    pop rbx
    ret
