; roundtrip.asm — a range private → shared → private through whichever interface the
; platform speaks (en_convert), proving each flip is destructive and the shared view works.
;
; The 2 MiB convert-area starts private and zero. 64 KiB of it (not 2 MiB aligned, so every
; interface sees 4 KiB granules) is flipped; the 16 KiB on either side must keep their content
; throughout. A conversion acts on whole pages, so one probe qword per page (pages.inc) shows
; what happened to that page: every flipped page and every page of the 16 KiB on either side
; is looked at, none read whole (guest instructions are slow on emulating backends, see
; docs/host-findings.md §4).
;
; Records: VALUE roundtrip.platform, roundtrip.to_shared.rax, roundtrip.to_private.rax;
; CHECK roundtrip.to_shared (0), roundtrip.shared.old_content_gone (0 non-zero probes in the
; shared view), roundtrip.shared.readback (0 mismatches), roundtrip.neighbours_intact
; (0 mismatches in the 16 KiB on either side, after each flip), roundtrip.to_private (0),
; roundtrip.private.shared_content_gone (0 probes still holding the shared content: going
; private, only TDX's ACCEPT promises zeros, an SNP page decrypts to noise),
; roundtrip.private.readback (0).

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
AFTER_FLIP      equ FLIP_OFFSET + FLIP_SIZE
MARGIN          equ 0x4000              ; neighbours checked on each side of the flipped range
%if MARGIN != 4 * EN_PAGE_SIZE
  %error the neighbours table below lists four pages a side
%endif

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "convert-area"

; Offsets from AREA_START: every flipped page, and every page of the margin on either side.
PAGE_PROBES flipped, FLIP_OFFSET, FLIP_PAGES
PROBES neighbours, FLIP_OFFSET - 4 * EN_PAGE_SIZE, FLIP_OFFSET - 3 * EN_PAGE_SIZE, \
    FLIP_OFFSET - 2 * EN_PAGE_SIZE, FLIP_OFFSET - EN_PAGE_SIZE, AFTER_FLIP, \
    AFTER_FLIP + EN_PAGE_SIZE, AFTER_FLIP + 2 * EN_PAGE_SIZE, AFTER_FLIP + 3 * EN_PAGE_SIZE

section .text
scenario:
    call en_platform
    VALUE "roundtrip.platform", rax
    VIEWS AREA_START                    ; r12 = the area's shared view, r13 = its private view

    PROBE_FILL r13, flipped, PRIVATE_TAG
    PROBE_FILL r13, neighbours, PRIVATE_TAG

    ; Private → shared: the shared view must not show what the private side held.
    CONVERT FLIP_GPA, FLIP_SIZE, EN_TO_SHARED
    mov rbx, rax
    VALUE "roundtrip.to_shared.rax", rbx
    EXPECT "roundtrip.to_shared", rbx, 0
    PROBE_NONZERO r12, flipped
    EXPECT "roundtrip.shared.old_content_gone", rax, 0
    PROBE_FILL r12, flipped, SHARED_TAG
    PROBE_MISMATCHES r12, flipped, SHARED_TAG
    EXPECT "roundtrip.shared.readback", rax, 0

    ; Only the requested range may change state (checked again after the second flip).
    PROBE_MISMATCHES r13, neighbours, PRIVATE_TAG
    mov r14, rax

    ; Shared → private: what was written through the shared view is gone too.
    CONVERT FLIP_GPA, FLIP_SIZE, EN_TO_PRIVATE
    mov rbx, rax
    VALUE "roundtrip.to_private.rax", rbx
    EXPECT "roundtrip.to_private", rbx, 0
    PROBE_MATCHES r13, flipped, SHARED_TAG
    EXPECT "roundtrip.private.shared_content_gone", rax, 0
    PROBE_FILL r13, flipped, PRIVATE_TAG
    PROBE_MISMATCHES r13, flipped, PRIVATE_TAG
    EXPECT "roundtrip.private.readback", rax, 0
    PROBE_MISMATCHES r13, neighbours, PRIVATE_TAG
    add r14, rax
    EXPECT "roundtrip.neighbours_intact", r14, 0
    ret
