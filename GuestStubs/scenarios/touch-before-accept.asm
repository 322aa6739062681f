; touch-before-accept.asm — a guest that touches private memory before validating (SEV-SNP)
; or accepting (TDX) it meets what the platform gives it: a #VC with error code 0x404 and the
; GVA in CR2, or (run with SEPT_VE_DISABLE clear, so not the TD's end) a #VE whose VE info
; names the EPT violation (48) and the GPA. Its handler (lazy-guest.inc) validates/accepts the
; page and the access runs again.
;
;   1. pending: a page made shared and back with the host's half alone (two requests, no
;      PVALIDATE/ACCEPT) is guest-owned but not validated / PENDING; reading it through the
;      private view faults once, the handler makes it usable, and the read no longer finds
;      the content the page held before (zeros on TDX, whose ACCEPT clears the page; noise on
;      SNP, where the page decrypts to noise under the guest's key).
;   2. stale view: a page converted to shared (en_convert) and written through its shared
;      view, then read through its old, private view: a private access to a shared page, so
;      the host converts it back to private implicitly (destroying the shared bytes); the page
;      is not validated / PENDING, the retried read faults a second time, and after the
;      handler the shared content is gone.
;
; Records: VALUE touch.platform; CHECK touch.pending.request (0), touch.pending.content_gone
; (0 probes holding the old content), touch.pending.faults (1), touch.pending.fault_address,
; touch.stale.to_shared (0), touch.stale.content_gone (0), touch.stale.faults (2),
; touch.stale.fault_address.

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "pages.inc"
%include "lazy-guest.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
PENDING_PAGE    equ AREA_START + 0x10000
STALE_PAGE      equ AREA_START + 0x20000

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "touch-area"

PROBES page, 0

section .text
scenario:
    INSTALL_LAZY_HANDLER "touch.platform"

    ; 1. Pending: the host's half alone, both ways.
    mov r12d, PENDING_PAGE
    PROBE_FILL r12, page, PRIVATE_TAG
    REQUEST PENDING_PAGE, EN_PAGE_SIZE, EN_TO_SHARED
    mov rbx, rax
    REQUEST PENDING_PAGE, EN_PAGE_SIZE, EN_TO_PRIVATE
    or rax, rbx
    EXPECT "touch.pending.request", rax, 0
    PROBE_MATCHES r12, page, PRIVATE_TAG
    EXPECT "touch.pending.content_gone", rax, 0
    LAZY_FAULTS
    EXPECT "touch.pending.faults", rax, 1
    LAZY_FAULT_ADDRESS
    EXPECT "touch.pending.fault_address", rax, PENDING_PAGE

    ; 2. The stale, private view of a page that went shared.
    CONVERT STALE_PAGE, EN_PAGE_SIZE, EN_TO_SHARED
    EXPECT "touch.stale.to_shared", rax, 0
    VIEWS STALE_PAGE                    ; r12 = the shared view, r13 = the private (stale) one
    PROBE_FILL r12, page, SHARED_TAG
    PROBE_MATCHES r13, page, SHARED_TAG
    EXPECT "touch.stale.content_gone", rax, 0
    LAZY_FAULTS
    EXPECT "touch.stale.faults", rax, 2
    LAZY_FAULT_ADDRESS
    EXPECT "touch.stale.fault_address", rax, STALE_PAGE
    ret
