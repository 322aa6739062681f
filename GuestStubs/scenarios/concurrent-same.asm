; concurrent-same.asm — two vCPUs convert the same 64 KiB at the same time: both ask for
; shared, then both for private, through whichever interface the platform speaks
; (concurrent.inc; on SNP each vCPU uses a GHCB of its own). Every request must succeed,
; whichever order the host serves them in, and the range must end private with the content
; written before the race gone.
;
; Run with 2 vCPUs. Each vCPU writes a marker into its own probe page of the range, meets
; the other at a barrier, converts, and meets it again. By then at least one request to
; shared flipped the range after both markers were written, and the last flip made it
; private again, so neither marker may still be there — whoever flipped (the pages read
; zero on KVM and TDX, noise on SNP once validated).
;
; Records (per vCPU, same names): VALUE same.vcpu (n), same.barrier.start (1: both arrived),
; same.barrier.end (1); CHECK same.to_shared (0), same.to_private (0),
; same.markers_gone (0 probes of the two still holding their marker).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "pages.inc"
%include "concurrent.inc"

RANGE_GPA       equ CONCURRENT_AREA_START + 0x100000
RANGE_SIZE      equ 0x10000
MARKER_TAG      equ 0x4D41524B00000000  ; "MARK" in the top half, the offset below it

; One probe page per vCPU (vCPU n writes page n), offsets from RANGE_GPA.
PAGE_PROBES markers, 0, CONCURRENT_VCPUS

section .text
scenario:
    mov r14d, edi                       ; this vCPU's index (main passes it through)
    VALUE "same.vcpu", r14

    ; Only this vCPU's own marker: qword [page n] := MARKER_TAG + n * 4 KiB.
    mov rax, r14
    shl rax, 12
    lea rcx, [rax + RANGE_GPA]
    mov rdx, MARKER_TAG
    add rax, rdx
    mov [rcx], rax

    mov edi, CONCURRENT_VCPUS
    call barrier
    VALUE "same.barrier.start", rax

    mov edi, RANGE_GPA
    mov esi, RANGE_SIZE
    mov edx, EN_TO_SHARED
    call concurrent_request
    EXPECT "same.to_shared", rax, 0
    mov edi, RANGE_GPA
    mov esi, RANGE_SIZE
    mov edx, EN_TO_PRIVATE
    call concurrent_request
    EXPECT "same.to_private", rax, 0

    mov edi, 2 * CONCURRENT_VCPUS
    call barrier
    VALUE "same.barrier.end", rax

    ; The range is private again but not validated/accepted: one vCPU does that (twice
    ; would be refused: no update / PAGE_ALREADY_ACCEPTED), then both look.
    test r14d, r14d
    jnz .accepted
    mov edi, RANGE_GPA
    mov esi, RANGE_SIZE
    call en_accept
    EXPECT "same.accepted", rax, 0
.accepted:
    mov edi, 3 * CONCURRENT_VCPUS
    call barrier
    VALUE "same.barrier.accepted", rax
    PROBE_MATCHES RANGE_GPA, markers, MARKER_TAG
    EXPECT "same.markers_gone", rax, 0
    ret
