; large-range.asm — 1 GiB of guest-physical memory converted private → shared → private with
; one request per direction, through whichever interface the platform speaks (en_convert):
;   KVM  one KVM_HC_MAP_GPA_RANGE, npages 262144, PAGE_SZ_2M (the range is 2 MiB aligned);
;   SNP  512 2 MiB PSC entries, in GHCB calls of at most 253 entries: 253 + 253 + 6;
;   TDX  one MapGPA of 1 GiB, which the host serves 2 MiB at a time.
; The runner backs the range with a sparse guest_memfd (only touched pages cost memory), so
; the guest touches three probe pages: the first, the middle and the last of the range.
;
; Needs guest RAM up to 2 GiB (the scenario's run options say so).
;
; Records: VALUE large.platform; CHECK large.to_shared (0), large.shared.old_content_gone
; (0 non-zero probes), large.shared.readback (0 mismatches), large.to_private (0),
; large.private.shared_content_gone (0 probes still holding the shared content).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "pages.inc"

LARGE_START     equ 0x40000000          ; 1 GiB, 1 GiB aligned
LARGE_SIZE      equ 0x40000000


PROBES ends, 0, LARGE_SIZE / 2, LARGE_SIZE - EN_PAGE_SIZE

section .text
scenario:
    call en_platform
    VALUE "large.platform", rax
    VIEWS LARGE_START                   ; r12 = the range's shared view, r13 = its private view

    ; The range is RAM the plan does not populate: private, not validated/accepted at launch.
    ; Like Linux's unaccepted memory, the guest validates only the pages it touches and
    ; rescinds just those before going shared (validating 1 GiB would be 262144 PVALIDATEs).
    PROBE_ACCEPT LARGE_START, ends
    EXPECT "large.probes.accepted", rax, 0
    PROBE_FILL r13, ends, PRIVATE_TAG
    PROBE_UNACCEPT LARGE_START, ends
    EXPECT "large.probes.rescinded", rax, 0
    REQUEST LARGE_START, LARGE_SIZE, EN_TO_SHARED
    EXPECT "large.to_shared", rax, 0
    PROBE_NONZERO r12, ends
    EXPECT "large.shared.old_content_gone", rax, 0
    PROBE_FILL r12, ends, SHARED_TAG
    PROBE_MISMATCHES r12, ends, SHARED_TAG
    EXPECT "large.shared.readback", rax, 0

    REQUEST LARGE_START, LARGE_SIZE, EN_TO_PRIVATE
    EXPECT "large.to_private", rax, 0
    PROBE_ACCEPT LARGE_START, ends
    EXPECT "large.probes.reaccepted", rax, 0
    PROBE_MATCHES r13, ends, SHARED_TAG
    EXPECT "large.private.shared_content_gone", rax, 0
    ret
