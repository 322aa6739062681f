; idempotent.asm — converting a range to the state it is already in succeeds and changes
; nothing: the host logs the request with nothing flipped, and the content survives (only a
; real flip may discard). Both directions, through whichever interface the platform speaks.
;
; 64 KiB of the 2 MiB idempotent-area (private, zero): private → private (kept), private →
; shared (a real flip: gone), shared → shared (kept), shared → private (a real flip: gone).
; Probes: the first, a middle and the last page of the range.
;
; Records: VALUE idem.platform; CHECK idem.private_again (0), idem.private_again.content_kept
; (0 mismatches), idem.to_shared (0), idem.shared.private_content_gone (0 non-zero probes),
; idem.shared_again (0), idem.shared_again.content_kept (0), idem.to_private (0),
; idem.private.shared_content_gone (0 probes still holding the shared content).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "pages.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
RANGE_GPA       equ AREA_START + 0x10000
RANGE_SIZE      equ 0x10000

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "idempotent-area"

PROBES pages, 0, RANGE_SIZE / 2, RANGE_SIZE - EN_PAGE_SIZE

section .text
scenario:
    call en_platform
    VALUE "idem.platform", rax
    VIEWS RANGE_GPA                     ; r12 = the range's shared view, r13 = its private view

    ; Private → private: nothing to do, so nothing may be discarded. The host's half alone:
    ; the pages stay validated/accepted, and validating them again would be the guest's error
    ; (no update / PAGE_ALREADY_ACCEPTED), which the validation scenario checks.
    PROBE_FILL r13, pages, PRIVATE_TAG
    REQUEST RANGE_GPA, RANGE_SIZE, EN_TO_PRIVATE
    EXPECT "idem.private_again", rax, 0
    PROBE_MISMATCHES r13, pages, PRIVATE_TAG
    EXPECT "idem.private_again.content_kept", rax, 0

    ; A real flip, for contrast: the private content goes.
    CONVERT RANGE_GPA, RANGE_SIZE, EN_TO_SHARED
    EXPECT "idem.to_shared", rax, 0
    PROBE_NONZERO r12, pages
    EXPECT "idem.shared.private_content_gone", rax, 0

    ; Shared → shared: the shared content stays.
    PROBE_FILL r12, pages, SHARED_TAG
    REQUEST RANGE_GPA, RANGE_SIZE, EN_TO_SHARED
    EXPECT "idem.shared_again", rax, 0
    PROBE_MISMATCHES r12, pages, SHARED_TAG
    EXPECT "idem.shared_again.content_kept", rax, 0

    CONVERT RANGE_GPA, RANGE_SIZE, EN_TO_PRIVATE
    EXPECT "idem.to_private", rax, 0
    PROBE_MATCHES r13, pages, SHARED_TAG
    EXPECT "idem.private.shared_content_gone", rax, 0
    ret
