; memory-fault.asm — implicit conversion: the guest touches memory through the view that does
; not match the page's state, without asking for a conversion, and the host converts it on
; the KVM_EXIT_MEMORY_FAULT that access causes (as a VMM does for TDX guests: the GPA's
; shared bit says which view the guest meant), then the access runs again.
;
; TDX only (the access type is the GPA's shared bit, which this runtime's shared alias sets),
; run with SEPT_VE_DISABLE clear, as KVM's tdx_upm_test does, so that touching a pending page
; is a #VE the guest handles instead of the TD's end:
;
;   1. fault-shared starts shared (PLAN_SHARED). A read through its private GPA is a private
;      access to a shared page: KVM_EXIT_MEMORY_FAULT with KVM_MEMORY_EXIT_FLAG_PRIVATE for
;      [0x400000, +4 KiB); the host makes it private, and KVM AUGs it PENDING, so the read,
;      run again, takes a #VE. The handler asks TDG.VP.VEINFO.GET (exit reason 48, the GPA),
;      accepts the page and resumes; the read then returns zero (accepted pages are zeroed).
;   2. fault-private starts private; the guest writes a marker through its private GPA (no
;      fault), then reads it through the shared alias: a shared access to a private page,
;      KVM_EXIT_MEMORY_FAULT without the private flag for [0x401000, +4 KiB); the host makes
;      it shared, discarding the private content, so the read returns zero.
;
; Records: CHECK fault.platform (3); fault.private_access.reads_zero (0),
; fault.private_access.readback (0), fault.ve.count (1), fault.ve.exit_reason (48),
; fault.ve.gpa (0x400000), fault.ve.accept (0); fault.shared_access.old_content_gone (0),
; fault.shared_access.readback (0).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "pages.inc"
%include "lazy-accept.inc"

SHARED_PAGE     equ 0x400000            ; starts shared, touched privately
PRIVATE_PAGE    equ SHARED_PAGE + EN_PAGE_SIZE  ; starts private, touched through the alias

PLAN_RANGE SHARED_PAGE, SHARED_PAGE + EN_PAGE_SIZE, PLAN_SHARED, PLAN_SHARED_START, "fault-shared"
PLAN_RANGE PRIVATE_PAGE, PRIVATE_PAGE + EN_PAGE_SIZE, PLAN_ZERO, PLAN_PRIVATE, "fault-private"

PROBES page, 0

section .text
scenario:
    REQUIRE_PLATFORM EN_PLATFORM_TDX, "fault.platform"
    INSTALL_VE_HANDLER

    ; 1. A private access to a shared page.
    mov r12d, SHARED_PAGE
    PROBE_NONZERO r12, page
    EXPECT "fault.private_access.reads_zero", rax, 0
    PROBE_FILL r12, page, PRIVATE_TAG
    PROBE_MISMATCHES r12, page, PRIVATE_TAG
    EXPECT "fault.private_access.readback", rax, 0
    EXPECT "fault.ve.count", [abs ve_count], 1
    EXPECT "fault.ve.exit_reason", [abs ve_exit_reason], EXIT_REASON_EPT_VIOLATION
    EXPECT "fault.ve.gpa", [abs ve_gpa], SHARED_PAGE
    EXPECT "fault.ve.accept", [abs ve_accept], 0

    ; 2. A shared access to a private page that holds a marker.
    mov r12d, PRIVATE_PAGE
    PROBE_FILL r12, page, PRIVATE_TAG
    mov edi, PRIVATE_PAGE
    call en_shared_alias
    mov r13, rax
    PROBE_NONZERO r13, page
    EXPECT "fault.shared_access.old_content_gone", rax, 0
    PROBE_FILL r13, page, SHARED_TAG
    PROBE_MISMATCHES r13, page, SHARED_TAG
    EXPECT "fault.shared_access.readback", rax, 0
    ret
