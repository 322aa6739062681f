; roundtrip-shared-first.asm — a range the plan starts shared goes shared → private → shared
; through whichever interface the platform speaks (en_convert): the mirror of roundtrip. Each
; flip must destroy what the old side held, and only the requested pages may change.
;
; The 2 MiB shared-area starts shared (PLAN_SHARED, not populated). 64 KiB of it (not 2 MiB
; aligned: 4 KiB granules on every interface) is flipped; the page on either side must keep
; its content. One probe qword per page (pages.inc): every flipped page is looked at.
;
; Records: VALUE rtsf.platform; CHECK rtsf.to_private (0), rtsf.private.shared_content_gone
; (0 probes in the private view still holding the shared content), rtsf.private.readback (0 mismatches),
; rtsf.private.neighbours_intact (0 mismatches in the shared neighbours), rtsf.to_shared (0),
; rtsf.shared.private_content_gone (0), rtsf.shared.readback (0),
; rtsf.shared.neighbours_intact (0).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "pages.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
FLIP_OFFSET     equ 0x10000
FLIP_SIZE       equ 0x10000
FLIP_GPA        equ AREA_START + FLIP_OFFSET
FLIP_PAGES      equ FLIP_SIZE / EN_PAGE_SIZE

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_SHARED, PLAN_SHARED_START, "shared-area"

; Offsets from AREA_START: every flipped page, and the page just before and just after.
PAGE_PROBES flipped, FLIP_OFFSET, FLIP_PAGES
PROBES neighbours, FLIP_OFFSET - EN_PAGE_SIZE, FLIP_OFFSET + FLIP_SIZE

section .text
scenario:
    call en_platform
    VALUE "rtsf.platform", rax
    VIEWS AREA_START                    ; r12 = the area's shared view, r13 = its private view

    ; Shared content, written where the host can see it.
    PROBE_FILL r12, flipped, SHARED_TAG
    PROBE_FILL r12, neighbours, SHARED_TAG

    ; Shared → private: the private view must not show what the shared side held.
    CONVERT FLIP_GPA, FLIP_SIZE, EN_TO_PRIVATE
    EXPECT "rtsf.to_private", rax, 0
    PROBE_MATCHES r13, flipped, SHARED_TAG
    EXPECT "rtsf.private.shared_content_gone", rax, 0
    PROBE_FILL r13, flipped, PRIVATE_TAG
    PROBE_MISMATCHES r13, flipped, PRIVATE_TAG
    EXPECT "rtsf.private.readback", rax, 0
    PROBE_MISMATCHES r12, neighbours, SHARED_TAG
    EXPECT "rtsf.private.neighbours_intact", rax, 0

    ; Private → shared: what the guest wrote privately is gone too.
    CONVERT FLIP_GPA, FLIP_SIZE, EN_TO_SHARED
    EXPECT "rtsf.to_shared", rax, 0
    PROBE_NONZERO r12, flipped
    EXPECT "rtsf.shared.private_content_gone", rax, 0
    PROBE_FILL r12, flipped, SHARED_TAG
    PROBE_MISMATCHES r12, flipped, SHARED_TAG
    EXPECT "rtsf.shared.readback", rax, 0
    PROBE_MISMATCHES r12, neighbours, SHARED_TAG
    EXPECT "rtsf.shared.neighbours_intact", rax, 0
    ret
