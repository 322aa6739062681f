; split-merge.asm — a 2 MiB aligned private region: one 4 KiB page in its middle goes shared
; (the region splits) and back (it merges), then the whole region converts as one 2 MiB
; request and back. Through whichever interface the platform speaks (en_convert):
;   4 KiB page   KVM: npages 1, PAGE_SZ_4K; SNP: one 4 KiB PSC entry; TDX: MapGPA of 4 KiB.
;   2 MiB region KVM: npages 512, PAGE_SZ_2M; SNP: one 2 MiB PSC entry; TDX: MapGPA of 2 MiB.
;
; Probes (one qword per page): the region's first page, the pages either side of the split
; page, the split page, the region's last page. The split may touch only its own page; the
; 2 MiB conversion must reach all of them.
;
; Records: VALUE split.platform; CHECK split.to_shared (0), split.shared.old_content_gone (0),
; split.shared.readback (0), split.neighbours_intact (0 mismatches in the four other probes),
; split.to_private (0), split.private.shared_content_gone (0 probes still holding the shared
; content), split.merged.neighbours_intact
; (0); huge.to_shared (0), huge.shared.old_content_gone (0 non-zero probes of five),
; huge.to_private (0), huge.private.shared_content_gone (0, as split's).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "pages.inc"

REGION_START    equ 0x400000            ; 2 MiB aligned
REGION_SIZE     equ EN_SIZE_2M
SPLIT_OFFSET    equ REGION_SIZE / 2     ; the page in the middle
SPLIT_GPA       equ REGION_START + SPLIT_OFFSET

%if REGION_START % EN_SIZE_2M
  %error the region must be 2 MiB aligned
%endif

PLAN_RANGE REGION_START, REGION_START + REGION_SIZE, PLAN_ZERO, PLAN_PRIVATE, "split-area"

; Offsets from REGION_START.
PROBES others, 0, SPLIT_OFFSET - EN_PAGE_SIZE, SPLIT_OFFSET + EN_PAGE_SIZE, REGION_SIZE - EN_PAGE_SIZE
PROBES split, SPLIT_OFFSET
PROBES all, 0, SPLIT_OFFSET - EN_PAGE_SIZE, SPLIT_OFFSET, SPLIT_OFFSET + EN_PAGE_SIZE, \
            REGION_SIZE - EN_PAGE_SIZE

section .text
scenario:
    call en_platform
    VALUE "split.platform", rax
    VIEWS REGION_START                  ; r12 = the region's shared view, r13 = its private view

    PROBE_FILL r13, all, PRIVATE_TAG

    ; Split: one 4 KiB page in the middle of the region goes shared.
    CONVERT SPLIT_GPA, EN_PAGE_SIZE, EN_TO_SHARED
    EXPECT "split.to_shared", rax, 0
    PROBE_NONZERO r12, split
    EXPECT "split.shared.old_content_gone", rax, 0
    PROBE_FILL r12, split, SHARED_TAG
    PROBE_MISMATCHES r12, split, SHARED_TAG
    EXPECT "split.shared.readback", rax, 0
    PROBE_MISMATCHES r13, others, PRIVATE_TAG
    EXPECT "split.neighbours_intact", rax, 0

    ; Merge: the page goes back; the region is private throughout again.
    CONVERT SPLIT_GPA, EN_PAGE_SIZE, EN_TO_PRIVATE
    EXPECT "split.to_private", rax, 0
    PROBE_MATCHES r13, split, SHARED_TAG
    EXPECT "split.private.shared_content_gone", rax, 0
    PROBE_MISMATCHES r13, others, PRIVATE_TAG
    EXPECT "split.merged.neighbours_intact", rax, 0

    ; The whole region as one 2 MiB request, and back: every probe page flips.
    PROBE_FILL r13, split, PRIVATE_TAG
    CONVERT REGION_START, REGION_SIZE, EN_TO_SHARED
    EXPECT "huge.to_shared", rax, 0
    PROBE_NONZERO r12, all
    EXPECT "huge.shared.old_content_gone", rax, 0
    PROBE_FILL r12, all, SHARED_TAG

    CONVERT REGION_START, REGION_SIZE, EN_TO_PRIVATE
    EXPECT "huge.to_private", rax, 0
    PROBE_MATCHES r13, all, SHARED_TAG
    EXPECT "huge.private.shared_content_gone", rax, 0
    ret
