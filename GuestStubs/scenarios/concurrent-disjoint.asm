; concurrent-disjoint.asm — two vCPUs convert two neighbouring 64 KiB ranges at the same
; time, each its own: private → shared → private, through whichever interface the platform
; speaks (concurrent.inc; on SNP each vCPU registers and uses a GHCB of its own). Each
; vCPU's flips must destroy only its own range's content, and the host must log each
; vCPU's requests as that vCPU made them.
;
; Run with 2 vCPUs. vCPU n (edi = n) owns [CONCURRENT_AREA_START + n * 64 KiB, + 64 KiB); both meet at
; a barrier before converting. Probes: the first and last page of the vCPU's range.
;
; Records (per vCPU, same names): VALUE disjoint.vcpu (n), disjoint.barrier (1: both
; arrived); CHECK disjoint.to_shared (0), disjoint.shared.old_content_gone (0 non-zero
; probes), disjoint.shared.readback (0 mismatches), disjoint.to_private (0),
; disjoint.private.shared_content_gone (0 probes still holding the shared content: going
; private, only TDX's ACCEPT promises zeros, an SNP page decrypts to noise).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "pages.inc"
%include "concurrent.inc"

RANGE_SIZE      equ 0x10000             ; each vCPU's share, side by side from the area's start
RANGE_SHIFT     equ 16

%if (1 << RANGE_SHIFT) != RANGE_SIZE
  %error RANGE_SHIFT does not match RANGE_SIZE
%endif

PROBES ends, 0, RANGE_SIZE - EN_PAGE_SIZE

section .text
scenario:
    mov r14d, edi                       ; this vCPU's index (main passes it through)
    VALUE "disjoint.vcpu", r14
    mov r13d, r14d
    shl r13d, RANGE_SHIFT
    add r13d, CONCURRENT_AREA_START     ; this vCPU's range: its GPA and private view
    mov rdi, r13
    call en_shared_alias
    mov r12, rax                        ; its shared view

    PROBE_FILL r13, ends, PRIVATE_TAG
    mov edi, CONCURRENT_VCPUS
    call barrier
    VALUE "disjoint.barrier", rax

    mov rdi, r13
    mov esi, RANGE_SIZE
    mov edx, EN_TO_SHARED
    call concurrent_convert
    EXPECT "disjoint.to_shared", rax, 0
    PROBE_NONZERO r12, ends
    EXPECT "disjoint.shared.old_content_gone", rax, 0
    PROBE_FILL r12, ends, SHARED_TAG
    PROBE_MISMATCHES r12, ends, SHARED_TAG
    EXPECT "disjoint.shared.readback", rax, 0

    mov rdi, r13
    mov esi, RANGE_SIZE
    mov edx, EN_TO_PRIVATE
    call concurrent_convert
    EXPECT "disjoint.to_private", rax, 0
    PROBE_MATCHES r13, ends, SHARED_TAG
    EXPECT "disjoint.private.shared_content_gone", rax, 0
    ret
