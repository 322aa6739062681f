; memory-fault.asm — implicit conversion: the guest touches memory through the view that does
; not match the page's state, without asking for a conversion, and the host converts exactly
; that 4 KiB page on the KVM_EXIT_MEMORY_FAULT the access causes (the access's view says which
; way: TDX's shared bit, SNP's C-bit), then the access runs again. On SEV-SNP and on TDX run
; with SEPT_VE_DISABLE clear (as KVM's tdx_upm_test), so that touching a page not yet
; validated/accepted is a fault the guest handles (lazy-guest.inc) instead of the TD's end:
;
;   1. fault-shared starts shared (PLAN_SHARED). The guest writes a marker through the shared
;      view, then reads the page through its private view: a private access to a shared page,
;      KVM_EXIT_MEMORY_FAULT with KVM_MEMORY_EXIT_FLAG_PRIVATE for [0x400000, +4 KiB); the host
;      makes it private (not validated / PENDING), so the read, run again, faults: #VC 0x404
;      with CR2 (SNP) or #VE with the VE info's exit reason 48 and GPA (TDX). The handler
;      validates/accepts the page and resumes; the read no longer finds the marker.
;   2. fault-private starts private; the guest writes markers at offsets 0 and 8 through the
;      private view (no fault), then *writes* offset 0 through the shared view: a shared
;      access to a private page, KVM_EXIT_MEMORY_FAULT without the private flag for
;      [0x401000, +4 KiB); the host makes it shared, discarding the private content, and the
;      write lands: offset 0 reads back, offset 8 holds no marker. (A write, because SNP's
;      RMP does not check C=0 reads: they read ciphertext without a fault.)
;
; Records: VALUE fault.platform; CHECK fault.private_access.content_gone (0),
; fault.private_access.readback (0), fault.faults (1), fault.fault_address (0x400000), and on
; TDX fault.ve.exit_reason (48); fault.shared_access.readback (0),
; fault.shared_access.old_content_gone (0).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "pages.inc"
%include "lazy-guest.inc"

SHARED_PAGE     equ 0x400000            ; starts shared, touched privately
PRIVATE_PAGE    equ SHARED_PAGE + EN_PAGE_SIZE  ; starts private, touched through the alias

PLAN_RANGE SHARED_PAGE, SHARED_PAGE + EN_PAGE_SIZE, PLAN_SHARED, PLAN_SHARED_START, "fault-shared"
PLAN_RANGE PRIVATE_PAGE, PRIVATE_PAGE + EN_PAGE_SIZE, PLAN_ZERO, PLAN_PRIVATE, "fault-private"

PROBES page, 0
PROBES pair, 0, 8
PROBES second, 8

section .text
scenario:
    INSTALL_LAZY_HANDLER "fault.platform"

    ; 1. A private access to a shared page.
    mov edi, SHARED_PAGE
    call en_shared_alias
    mov r13, rax
    PROBE_FILL r13, page, SHARED_TAG
    mov r12d, SHARED_PAGE
    PROBE_MATCHES r12, page, SHARED_TAG
    EXPECT "fault.private_access.content_gone", rax, 0
    PROBE_FILL r12, page, PRIVATE_TAG
    PROBE_MISMATCHES r12, page, PRIVATE_TAG
    EXPECT "fault.private_access.readback", rax, 0
    LAZY_FAULTS
    EXPECT "fault.faults", rax, 1
    LAZY_FAULT_ADDRESS
    EXPECT "fault.fault_address", rax, SHARED_PAGE
    call en_platform
    cmp eax, EN_PLATFORM_TDX
    jne .shared_access
    EXPECT "fault.ve.exit_reason", [abs ve_exit_reason], EXIT_REASON_EPT_VIOLATION

.shared_access:
    ; 2. A shared write to a private page that holds markers.
    mov r12d, PRIVATE_PAGE
    PROBE_FILL r12, pair, PRIVATE_TAG
    mov edi, PRIVATE_PAGE
    call en_shared_alias
    mov r13, rax
    PROBE_FILL r13, page, SHARED_TAG
    PROBE_MISMATCHES r13, page, SHARED_TAG
    EXPECT "fault.shared_access.readback", rax, 0
    PROBE_MATCHES r13, second, PRIVATE_TAG
    EXPECT "fault.shared_access.old_content_gone", rax, 0
    ret
