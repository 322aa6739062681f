; touch-before-accept.asm — a TD that touches private memory before accepting it meets what
; the TDX module gives it (run with SEPT_VE_DISABLE clear, so it is a #VE, not the TD's end):
;
;   1. pending: a page made shared and back with the host's half alone (MapGPA twice, no
;      ACCEPT) is PENDING; reading it through the private view takes a #VE whose VEINFO names
;      the EPT violation (48) and the GPA; the handler accepts the page (lazy-accept.inc), the
;      read resumes and returns zero (accepted pages are zeroed).
;   2. stale view: a page converted to shared (en_convert) and written through its shared
;      view, then read through its old, private view: the access is a private access to a
;      shared page, so the host converts it back to private implicitly (destroying the shared
;      bytes), the page is PENDING, the retried read takes the second #VE, and after the
;      handler's ACCEPT it reads zero.
;
; Records: CHECK touch.platform (3), touch.pending.request (0), touch.pending.reads_zero (0),
; touch.pending.ve_count (1), touch.pending.ve_gpa, touch.stale.to_shared (0),
; touch.stale.reads_zero (0), touch.stale.ve_count (2), touch.stale.ve_gpa.

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "pages.inc"
%include "lazy-accept.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
PENDING_PAGE    equ AREA_START + 0x10000
STALE_PAGE      equ AREA_START + 0x20000

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "touch-area"

PROBES page, 0

section .text
scenario:
    REQUIRE_PLATFORM EN_PLATFORM_TDX, "touch.platform"
    INSTALL_VE_HANDLER

    ; 1. Pending: the host's half alone, both ways.
    mov r12d, PENDING_PAGE
    PROBE_FILL r12, page, PRIVATE_TAG
    REQUEST PENDING_PAGE, EN_PAGE_SIZE, EN_TO_SHARED
    mov rbx, rax
    REQUEST PENDING_PAGE, EN_PAGE_SIZE, EN_TO_PRIVATE
    or rax, rbx
    EXPECT "touch.pending.request", rax, 0
    PROBE_NONZERO r12, page
    EXPECT "touch.pending.reads_zero", rax, 0
    EXPECT "touch.pending.ve_count", [abs ve_count], 1
    EXPECT "touch.pending.ve_gpa", [abs ve_gpa], PENDING_PAGE

    ; 2. The stale, private view of a page that went shared.
    CONVERT STALE_PAGE, EN_PAGE_SIZE, EN_TO_SHARED
    EXPECT "touch.stale.to_shared", rax, 0
    VIEWS STALE_PAGE                    ; r12 = the shared view, r13 = the private (stale) one
    PROBE_FILL r12, page, SHARED_TAG
    PROBE_NONZERO r13, page
    EXPECT "touch.stale.reads_zero", rax, 0
    EXPECT "touch.stale.ve_count", [abs ve_count], 2
    EXPECT "touch.stale.ve_gpa", [abs ve_gpa], STALE_PAGE
    ret
