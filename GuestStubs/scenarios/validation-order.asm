; validation-order.asm — what the order of the guest's and the host's halves does on SEV-SNP.
; Linux: "Page validation must be rescinded before changing to shared" and "performed after
; changing to private" (arch/x86/coco/sev/core.c). Done the wrong way round, the hardware does
; not refuse the PSC; it is the PVALIDATE that then meets the wrong page:
;
;   1. shared first: a validated page is made shared with the PSC alone, then its validation
;      rescinded. The page is hypervisor-owned now, so the PVALIDATE takes an RMP #NPF, which
;      KVM resolves as an implicit conversion back to private — the page the guest meant to
;      share is private again (and its bytes gone), not validated, and the rescind reports
;      no update (CF set: PVALIDATE_FAIL_NOUPDATE), which Linux treats as fatal.
;   2. validated too early: validating a page before the PSC that makes it private meets the
;      same #NPF and implicit conversion; the PSC after it then finds it private already (the
;      host logs nothing flipped), and the page ends private and validated.
;
; Records: CHECK order.platform (2), order.shared_first.request (0),
; order.shared_first.rescind (255), order.early.to_shared (0), order.early.validate (0),
; order.early.request (0).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
SHARED_FIRST    equ AREA_START + 0x10000    ; validated at launch (in the plan)
EARLY_PAGE      equ AREA_START + 0x20000    ; made shared first, correctly

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "order-area"

section .text
scenario:
    REQUIRE_PLATFORM EN_PLATFORM_SNP, "order.platform"

    ; 1. PSC to shared, then rescind: the wrong order.
    mov edi, SHARED_FIRST
    mov esi, EN_PAGE_SIZE
    mov edx, EN_TO_SHARED
    call en_request_conversion
    EXPECT "order.shared_first.request", rax, 0
    mov edi, SHARED_FIRST
    mov esi, RMP_PG_SIZE_4K
    mov edx, PVALIDATE_RESCIND
    call snp_pvalidate
    EXPECT "order.shared_first.rescind", rax, PVALIDATE_FAIL_NOUPDATE

    ; 2. A correctly shared page, validated before the PSC that makes it private.
    mov edi, EARLY_PAGE
    mov esi, EN_PAGE_SIZE
    mov edx, EN_TO_SHARED
    call en_convert
    EXPECT "order.early.to_shared", rax, 0
    mov edi, EARLY_PAGE
    mov esi, RMP_PG_SIZE_4K
    mov edx, PVALIDATE_VALIDATE
    call snp_pvalidate
    EXPECT "order.early.validate", rax, 0
    mov edi, EARLY_PAGE
    mov esi, EN_PAGE_SIZE
    mov edx, EN_TO_PRIVATE
    call en_request_conversion
    EXPECT "order.early.request", rax, 0
    ret
