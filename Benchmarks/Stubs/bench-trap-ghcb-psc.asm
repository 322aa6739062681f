; bench-trap-ghcb-psc.asm — the guest of `enlighten bench`'s GHCB Page State Change NAE event
; round-trip figure (docs/benchmarks.md): one 4 KiB page flipped private -> shared -> private
; ... BENCH_REQUESTS times, each flip one PSC NAE event with a single 4 KiB entry in the GHCB's
; shared buffer, its VMGEXIT trapped at this stub's own request site.
;
; Before the loop BENCH_GHCB_PSC_SETUP (bench-ghcb.inc) registers the GHCB, writes the GHCB
; fields that stay put once, through the GHCB's shared view (with private memory enforced the
; identity mapping is C=1, which a shared page must not be reached through), and sets the GHCB
; MSR to the GHCB's GPA once: the host changes it only to answer an MSR-protocol request, so
; like ghcb.asm's MSR flag the loop never writes it again, and one request is one exit, the
; VMGEXIT. In the loop only what the host's answer overwrote is written again: the
; PSC header (cur_entry advanced), the entry (cur_page set) with the other operation, and the
; valid bits of the four SW_* fields (the host clears the bitmap and marks only what it
; returned; SW_EXITINFO1/2 come back 0 on success, as sent). Results are not checked here:
; the host records every request and `enlighten bench` fails the figure if any was rejected.
;
; Exits per run: 1 (presence read) + 6 (ghcb_init) + 1 (WRMSR) + BENCH_REQUESTS + 1 (exit code).

%include "enlighten.inc"
%include "interfaces.inc"
%include "bench-trap.inc"
%include "bench-ghcb.inc"


global main
global __enlighten_site_bench_ghcb_psc

section .text
main:
    push rbx
    push r12
    push r13
    push r14
    BENCH_GHCB_PSC_SETUP done           ; r14 = the GHCB's shared view; exit code 1 on failure

    mov r12d, BENCH_REQUESTS
    mov rbx, TO_SHARED
    mov r13, TO_PRIVATE
flip_loop:
    mov qword [r14 + GHCB_SHARED_BUFFER], 0     ; header: cur_entry 0, end_entry 0
    mov [r14 + PSC_ENTRY], rbx
    mov byte [r14 + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_ALL
__enlighten_site_bench_ghcb_psc:
    rep vmmcall                         ; VMGEXIT: trapped before it executes; the host skips it
    xchg rbx, r13                       ; the next flip goes the other way
    dec r12d
    jnz flip_loop
    xor eax, eax
done:
    pop r14
    pop r13
    pop r12
    pop rbx
    ret
