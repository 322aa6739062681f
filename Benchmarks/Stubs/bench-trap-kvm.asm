; bench-trap-kvm.asm — the guest of `enlighten bench`'s KVM_HC_MAP_GPA_RANGE round-trip figure
; (docs/benchmarks.md): one 4 KiB page flipped private -> shared -> private ... BENCH_REQUESTS
; times, each flip one hypercall, trapped at this stub's own request site.
;
; The loop is as tight as the port-I/O loop of bench-exits.asm it is compared with: the
; arguments stay in their registers, only rax (the result) is reloaded and the encrypted bit
; of the attributes toggled. The result is not checked here: the host records every request
; and `enlighten bench` fails the figure if any was rejected.
;
; Exits per run: 1 (presence read) + BENCH_REQUESTS + 1 (exit code).

%include "enlighten.inc"
%include "interfaces.inc"
%include "bench-trap.inc"

global main
global __enlighten_site_bench_kvm

section .text
main:
    push rbx
    push r12
    mov r12d, BENCH_REQUESTS
    mov ebx, FLIP_GPA                   ; a0 = gpa
    mov ecx, 1                          ; a1 = npages
    mov edx, KVM_MAP_GPA_RANGE_DECRYPTED | KVM_MAP_GPA_RANGE_PAGE_SZ_4K
    xor esi, esi                        ; a3, unused
flip_loop:
    mov eax, KVM_HC_MAP_GPA_RANGE
__enlighten_site_bench_kvm:
    vmmcall                             ; trapped before it executes; the host skips it
    xor edx, KVM_MAP_GPA_RANGE_ENCRYPTED
    dec r12d
    jnz flip_loop
    pop r12
    pop rbx
    xor eax, eax
    ret
