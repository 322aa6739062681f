; bench-trap-ghcb-psc.asm — the guest of `enlighten bench`'s GHCB Page State Change NAE event
; round-trip figure (docs/benchmarks.md): one 4 KiB page flipped private -> shared -> private
; ... BENCH_REQUESTS times, each flip one PSC NAE event with a single 4 KiB entry in the GHCB's
; shared buffer, its VMGEXIT trapped at this stub's own request site.
;
; Before the loop the library registers the GHCB (ghcb_init: SEV_INFO and REG_GPA over the
; MSR protocol), the GHCB fields that stay put are written once (SW_EXITCODE 0x80000010,
; SW_EXITINFO1/2 0, SW_SCRATCH = the shared buffer, usage 0, protocol version 2), and the GHCB
; MSR is set to the GHCB's GPA once: the host changes it only to answer an MSR-protocol
; request, so like ghcb.asm's MSR flag the loop never writes it again, and one request is one
; exit, the VMGEXIT. In the loop only what the host's answer overwrote is written again: the
; PSC header (cur_entry advanced), the entry (cur_page set) with the other operation, and the
; valid bits of the four SW_* fields (the host clears the bitmap and marks only what it
; returned; SW_EXITINFO1/2 come back 0 on success, as sent). Results are not checked here:
; the host records every request and `enlighten bench` fails the figure if any was rejected.
;
; Exits per run: 1 (presence read) + 6 (ghcb_init) + 1 (WRMSR) + BENCH_REQUESTS + 1 (exit code).

%include "enlighten.inc"
%include "interfaces.inc"
%include "bench-trap.inc"

TO_SHARED       equ FLIP_GPA | VMGEXIT_PSC_OP_SHARED << PSC_ENTRY_OP_SHIFT    ; 4 KiB, cur_page 0
TO_PRIVATE      equ FLIP_GPA | VMGEXIT_PSC_OP_PRIVATE << PSC_ENTRY_OP_SHIFT
PSC_ENTRY       equ GHCB_SHARED_BUFFER + VMGEXIT_PSC_HDR_SIZE

global main
global __enlighten_site_bench_ghcb_psc

section .text
main:
    push rbx
    push r12
    push r13
    push r14
    call ghcb_init                      ; vCPU 0's GHCB: ghcb_page
    test rax, rax
    mov eax, 1                          ; exit code 1: the GHCB could not be registered
    jnz done

    mov r14d, ghcb_page                 ; .shared is RAM: a 32-bit absolute address
    mov qword [r14 + GHCB_VALID_BITMAP], 0
    mov qword [r14 + GHCB_VALID_BITMAP + 8], 0
    mov eax, SVM_VMGEXIT_PSC            ; zero-extended (an imm32 store would sign-extend it)
    mov [r14 + GHCB_SW_EXIT_CODE], rax
    mov qword [r14 + GHCB_SW_EXIT_INFO_1], 0
    mov qword [r14 + GHCB_SW_EXIT_INFO_2], 0
    lea eax, [r14 + GHCB_SHARED_BUFFER]
    mov [r14 + GHCB_SW_SCRATCH], rax
    mov word [r14 + GHCB_PROTOCOL_VERSION_OFFSET], GHCB_PROTOCOL_VERSION
    mov dword [r14 + GHCB_USAGE], 0
    mov ecx, MSR_AMD64_SEV_ES_GHCB      ; GHCB MSR = the GHCB's GPA (below 4 GiB: edx = 0)
    mov eax, r14d
    xor edx, edx
    wrmsr

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
