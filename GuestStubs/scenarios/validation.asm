; validation.asm — the guest's half of private memory, as the platform answers it: SNP
; PVALIDATE against the RMP, TDX TDG.MEM.PAGE.ACCEPT against the Secure EPT.
;
;   launch state    a page the plan populated (validated by SNP_LAUNCH_UPDATE / added by
;                   TDH.MEM.PAGE.ADD) validated again: no update / PAGE_ALREADY_ACCEPTED;
;                   a RAM page the plan left alone: pending, so the first validate succeeds;
;   twice           the same page again: no update (RAX 0, CF 1: PVALIDATE_FAIL_NOUPDATE 255
;                   here) / TDX_PAGE_ALREADY_ACCEPTED + 0;
;   2 MiB over 4 KiB  a 2 MiB request where the RMP / Secure EPT holds 4 KiB entries (as
;                   KVM makes them): FAIL_SIZEMISMATCH (6) / TDX_PAGE_SIZE_MISMATCH + 1, and
;                   the range helpers' 4 KiB fallback then validates the whole 2 MiB;
;   hypervisor-owned  a page made shared (host half only) and written through its shared
;                   view, then validated: the RMP / Secure-EPT fault becomes an implicit
;                   conversion to private (logged by the host), the retried instruction
;                   succeeds, and the shared content is gone;
;   TDX operands    a 1 GiB level and a GPA with the shared bit: TDX_OPERAND_INVALID + RCX;
;                   TDG.VP.VEINFO.GET with no #VE: TDX_NO_VALID_VE_INFO.
;   SNP rescind     rescinding a validated page succeeds once, then: no update.
;
; Records (CHECK): val.launch.revalidate, val.pending.first, val.twice, val.2m_over_4k,
; val.2m.fallback, val.hypervisor_owned.request, val.hypervisor_owned, val.hypervisor_owned
; .content_gone, and per platform val.snp.rescind, val.snp.rescind_twice, val.tdx.level_1g,
; val.tdx.shared_gpa, val.tdx.veinfo.

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "pages.inc"

LAUNCHED_START  equ 0x400000            ; in the plan: validated/accepted at launch
LAUNCHED_SIZE   equ 0x200000
PENDING_PAGE    equ 0x800000            ; RAM the plan leaves alone: pending at launch
REGION_2M       equ 0xA00000            ; a 2 MiB aligned region, pending at launch
OWNED_PAGE      equ LAUNCHED_START + 0x40000 ; made shared, then validated as private

TDX_OPERAND_INVALID_RCX equ 0xC000010000000001
TDX_NO_VALID_VE_INFO    equ 0xC000070400000000
TDX_PAGE_LEVEL_1G       equ 2

PLAN_RANGE LAUNCHED_START, LAUNCHED_START + LAUNCHED_SIZE, PLAN_ZERO, PLAN_PRIVATE, "launched-area"

PROBES owned, 0, EN_PAGE_SIZE / 2, EN_PAGE_SIZE - 8

section .text
scenario:
    call en_platform
    cmp eax, EN_PLATFORM_SNP
    je snp
    cmp eax, EN_PLATFORM_TDX
    je tdx
    EXPECT "val.platform", rax, EN_PLATFORM_SNP  ; neither: fails, naming what it found
    ret

; validate(address, size) for SNP: eax = snp_pvalidate's result.
%macro PVALIDATE_PAGE 3
    mov rdi, %1
    mov esi, %2
    mov edx, %3
    call snp_pvalidate
%endmacro

snp:
    PVALIDATE_PAGE LAUNCHED_START, RMP_PG_SIZE_4K, PVALIDATE_VALIDATE
    EXPECT "val.launch.revalidate", rax, PVALIDATE_FAIL_NOUPDATE
    PVALIDATE_PAGE PENDING_PAGE, RMP_PG_SIZE_4K, PVALIDATE_VALIDATE
    EXPECT "val.pending.first", rax, 0
    PVALIDATE_PAGE PENDING_PAGE, RMP_PG_SIZE_4K, PVALIDATE_VALIDATE
    EXPECT "val.twice", rax, PVALIDATE_FAIL_NOUPDATE
    PVALIDATE_PAGE REGION_2M, RMP_PG_SIZE_2M, PVALIDATE_VALIDATE
    EXPECT "val.2m_over_4k", rax, PVALIDATE_FAIL_SIZEMISMATCH
    mov rdi, REGION_2M
    mov esi, EN_SIZE_2M
    mov edx, PVALIDATE_VALIDATE
    call snp_pvalidate_range
    EXPECT "val.2m.fallback", rax, 0
    call hypervisor_owned
    PVALIDATE_PAGE PENDING_PAGE, RMP_PG_SIZE_4K, PVALIDATE_RESCIND
    EXPECT "val.snp.rescind", rax, 0
    PVALIDATE_PAGE PENDING_PAGE, RMP_PG_SIZE_4K, PVALIDATE_RESCIND
    EXPECT "val.snp.rescind_twice", rax, PVALIDATE_FAIL_NOUPDATE
    ret

%macro ACCEPT_PAGE 1
    mov rdi, %1
    call tdx_accept_page
%endmacro

tdx:
    ACCEPT_PAGE LAUNCHED_START | TDX_PAGE_LEVEL_4K
    EXPECT "val.launch.revalidate", rax, TDX_PAGE_ALREADY_ACCEPTED | TDX_PAGE_LEVEL_4K
    ACCEPT_PAGE PENDING_PAGE | TDX_PAGE_LEVEL_4K
    EXPECT "val.pending.first", rax, 0
    ACCEPT_PAGE PENDING_PAGE | TDX_PAGE_LEVEL_4K
    EXPECT "val.twice", rax, TDX_PAGE_ALREADY_ACCEPTED | TDX_PAGE_LEVEL_4K
    ACCEPT_PAGE REGION_2M | TDX_PAGE_LEVEL_2M
    EXPECT "val.2m_over_4k", rax, TDX_PAGE_SIZE_MISMATCH | TDX_PAGE_LEVEL_2M
    mov rdi, REGION_2M
    mov esi, EN_SIZE_2M
    call tdx_accept_range
    EXPECT "val.2m.fallback", rax, 0
    call hypervisor_owned
    ACCEPT_PAGE PENDING_PAGE | TDX_PAGE_LEVEL_1G
    EXPECT "val.tdx.level_1g", rax, TDX_OPERAND_INVALID_RCX
    call tdx_shared_bit
    lea rdi, [rax + PENDING_PAGE]
    call tdx_accept_page
    EXPECT "val.tdx.shared_gpa", rax, TDX_OPERAND_INVALID_RCX
    call tdx_veinfo_get
    EXPECT "val.tdx.veinfo", rax, TDX_NO_VALID_VE_INFO
    ret

; A launched page made shared with the host's half alone (its validation rescinded first,
; as a correct guest does), written through the shared view, then validated/accepted as
; private: the host converts it implicitly, the instruction succeeds, the content is gone.
hypervisor_owned:
    mov edi, OWNED_PAGE
    mov esi, EN_PAGE_SIZE
    call en_unaccept
    mov edi, OWNED_PAGE
    mov esi, EN_PAGE_SIZE
    mov edx, EN_TO_SHARED
    call en_request_conversion
    EXPECT "val.hypervisor_owned.request", rax, 0
    VIEWS OWNED_PAGE                    ; r12 = shared view, r13 = private view
    PROBE_FILL r12, owned, SHARED_TAG
    mov edi, OWNED_PAGE
    mov esi, EN_PAGE_SIZE
    call en_accept
    EXPECT "val.hypervisor_owned", rax, 0
    PROBE_MATCHES r13, owned, SHARED_TAG
    EXPECT "val.hypervisor_owned.content_gone", rax, 0
    ret
