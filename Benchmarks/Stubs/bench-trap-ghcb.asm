; bench-trap-ghcb.asm — the guest of `enlighten bench`'s GHCB MSR-protocol Page State Change
; round-trip figure (docs/benchmarks.md): one 4 KiB page flipped private -> shared -> private
; ... BENCH_REQUESTS times, each flip one MSR-protocol request: write the request to the GHCB
; MSR, VMGEXIT (trapped at this stub's own request site), read the response back.
;
; Outside SEV-SNP hardware the GHCB MSR accesses are exits of their own (user-space MSR
; exits), so one request here is three exits; on hardware they are not. The Page State Change
; NAE event, one exit a request, has its own figure (bench-trap-ghcb-psc.asm). The two request
; values are built once; the loop only swaps them. Results are not checked here: the host
; records every request and `enlighten bench` fails the figure if any was rejected.

%include "enlighten.inc"
%include "interfaces.inc"
%include "bench-trap.inc"

PSC_REQUEST     equ (FLIP_GPA >> 12) << GHCB_MSR_PSC_GFN_SHIFT | GHCB_MSR_PSC_REQ
TO_SHARED       equ PSC_REQUEST | VMGEXIT_PSC_OP_SHARED << GHCB_MSR_PSC_OP_SHIFT
TO_PRIVATE      equ PSC_REQUEST | VMGEXIT_PSC_OP_PRIVATE << GHCB_MSR_PSC_OP_SHIFT

global main
global __enlighten_site_bench_ghcb

section .text
main:
    push rbx
    push r12
    push r13
    mov r12d, BENCH_REQUESTS
    mov rbx, TO_SHARED
    mov r13, TO_PRIVATE
flip_loop:
    mov ecx, MSR_AMD64_SEV_ES_GHCB
    mov rax, rbx
    mov rdx, rbx
    shr rdx, 32
    wrmsr
__enlighten_site_bench_ghcb:
    rep vmmcall                         ; VMGEXIT: trapped before it executes; the host skips it
    rdmsr
    xchg rbx, r13                       ; the next flip goes the other way
    dec r12d
    jnz flip_loop
    ; The loop wrote the GHCB MSR behind ghcb.asm's back; the runtime's exit-code report goes
    ; through this vCPU's GHCB (runtime/portio.asm), so one MSR-protocol request through the
    ; library (SEV_INFO, harmless) tells it the MSR no longer holds the GHCB's GPA.
    mov edi, GHCB_MSR_SEV_INFO_REQ
    call ghcb_msr_call
    pop r13
    pop r12
    pop rbx
    xor eax, eax
    ret
