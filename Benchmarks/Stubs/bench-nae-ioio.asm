; bench-nae-ioio.asm — the guest of `enlighten bench`'s GHCB IOIO NAE event round-trip figure
; (docs/benchmarks.md): BENCH_REQUESTS OUTs of one byte to the POST port 0x80, each forwarded
; as an SVM_EXIT_IOIO NAE event over the GHCB page (what a #VC handler does for an `out`):
; the valid bitmap cleared, SW_EXITCODE 0x7B, SW_EXITINFO1 the IOIO information, SW_EXITINFO2
; 0, RAX the byte, those marked valid, then VMGEXIT at this stub's own request site.
;
; The GHCB is registered once through the library (ghcb_nae_prepare: two MSR-protocol
; requests) and the GHCB MSR set to its GPA once before the loop, so a request is the VMGEXIT
; alone, one exit, as on SNP hardware. The stub writes the GHCB MSR itself and calls no
; library routine afterwards (ghcb.asm's "MSR holds my GHCB" flag is not consulted again).

%include "enlighten.inc"
%include "interfaces.inc"
%include "bench-trap.inc"

OUT_POST        equ (0x80 << IOIO_PORT_SHIFT) | IOIO_DATA_8 | IOIO_ADDR_64
SW_VALID        equ GHCB_VALID_SW_EXIT_CODE | GHCB_VALID_SW_EXIT_INFO_1 | GHCB_VALID_SW_EXIT_INFO_2

global main
global __enlighten_site_bench_nae

section .text
main:
    push rbx
    push r12
    call ghcb_nae_prepare               ; registers vCPU 0's GHCB; rax = its shared view
    mov rbx, rax
    mov eax, 1                          ; exit code 1: no GHCB
    test rbx, rbx
    jz done
    mov ecx, MSR_AMD64_SEV_ES_GHCB      ; GHCB MSR := vCPU 0's GHCB (below 4 GiB: edx = 0)
    mov eax, ghcb_page
    xor edx, edx
    wrmsr
    mov r12d, BENCH_REQUESTS
    mov eax, SVM_EXIT_IOIO
    mov [rbx + GHCB_SW_EXIT_CODE], rax
request_loop:
    xor eax, eax
    mov [rbx + GHCB_VALID_BITMAP], rax
    mov [rbx + GHCB_VALID_BITMAP + 8], rax
    mov qword [rbx + GHCB_SW_EXIT_INFO_1], OUT_POST
    mov [rbx + GHCB_SW_EXIT_INFO_2], rax
    mov [rbx + GHCB_RAX], r12
    or byte [rbx + GHCB_VALID_SW_BYTE], SW_VALID
    or byte [rbx + GHCB_VALID_RAX_BYTE], GHCB_VALID_RAX
__enlighten_site_bench_nae:
    rep vmmcall                         ; VMGEXIT: trapped before it executes; the host skips it
    dec r12d
    jnz request_loop
    xor eax, eax
done:
    pop r12
    pop rbx
    ret
