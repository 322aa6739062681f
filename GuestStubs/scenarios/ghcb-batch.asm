; ghcb-batch.asm — the GHCB Page State Change at its limits (SEV-SNP only): one call with
; exactly 253 4 KiB entries, 2 MiB entries, the MSR-protocol single page, and one entry too
; many.
;
; Records: CHECK ghcb.platform (2), ghcb.init (0);
;   ghcb.batch253.exitinfo2 (0), ghcb.batch253.cur_entry (253), ghcb.batch253.cur_page
;   (0 entries whose cur_page is not 1), ghcb.batch253.back.exitinfo2 (0),
;   VALUE ghcb.batch253.vmgexits;
;   ghcb.huge.exitinfo2 (0), ghcb.huge.cur_entry (2), ghcb.huge.cur_page (0 entries whose
;   cur_page is not 512), ghcb.huge.back.exitinfo2 (0), VALUE ghcb.huge.vmgexits;
;   ghcb.msr_psc.shared (0x015), ghcb.msr_psc.old_content_gone (0), ghcb.msr_psc.private (0x015);
;   ghcb.psc254.refused (the library's EN_ABI_ERR_BAD_ARGUMENT, nothing sent),
;   ghcb.batch254.exitinfo2 (INVALID_HDR = 1 << 32 | 1), ghcb.batch254.cur_entry (0).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x400000            ; two 2 MiB frames
BATCH           equ VMGEXIT_PSC_MAX_COUNT
HUGE_ENTRIES    equ AREA_SIZE / EN_SIZE_2M
MSR_PAGE        equ AREA_START + AREA_SIZE - EN_PAGE_SIZE
MSR_TAG         equ 0x4D53525000000000  ; "MSRP"
OP_SHARED       equ VMGEXIT_PSC_OP_SHARED << PSC_ENTRY_OP_SHIFT
OP_PRIVATE      equ VMGEXIT_PSC_OP_PRIVATE << PSC_ENTRY_OP_SHIFT
CUR_PAGE_MASK   equ 0xFFF
CUR_ENTRY_MASK  equ 0xFFFF

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "psc-area"

section .bss nobits alloc noexec write align=8
entries:        resq BATCH + 1

section .text

; entries(rsi = gpa, rdx = count, rcx = op/size bits, r8 = stride) into `entries`.
make_entries:
    mov edi, entries
    jmp build_psc_entries

; cur_page_mismatches(rdi = count, rsi = expected cur_page) -> rax = entries in the GHCB's PSC
; buffer whose cur_page (what the host says it finished) differs.
cur_page_mismatches:
    push rdi
    mov edi, ghcb_page
    call en_shared_alias                ; the GHCB is shared: read it through the shared view
    pop rdi
    lea rdx, [rax + GHCB_SHARED_BUFFER + VMGEXIT_PSC_HDR_SIZE]
    xor eax, eax
.next:
    mov rcx, [rdx]
    and ecx, CUR_PAGE_MASK
    cmp rcx, rsi
    je .same
    inc rax
.same:
    add rdx, 8
    dec rdi
    jnz .next
    ret

scenario:
    REQUIRE_GHCB

    ; 253 4 KiB entries in one call: the most a GHCB carries.
    mov esi, AREA_START
    mov edx, BATCH
    mov rcx, OP_SHARED
    mov r8d, EN_PAGE_SIZE
    call make_entries
    mov edi, entries
    mov esi, BATCH
    call ghcb_psc
    mov rbx, rax
    mov r12, rdx
    EXPECT "ghcb.batch253.exitinfo2", rbx, 0
    and r12d, CUR_ENTRY_MASK
    EXPECT "ghcb.batch253.cur_entry", r12, BATCH
    VALUE "ghcb.batch253.vmgexits", [abs ghcb_psc_exits]
    mov edi, BATCH
    mov esi, 1
    call cur_page_mismatches
    EXPECT "ghcb.batch253.cur_page", rax, 0

    mov esi, AREA_START
    mov edx, BATCH
    mov rcx, OP_PRIVATE
    mov r8d, EN_PAGE_SIZE
    call make_entries
    mov edi, entries
    mov esi, BATCH
    call ghcb_psc
    EXPECT "ghcb.batch253.back.exitinfo2", rax, 0

    ; 2 MiB entries.
    mov esi, AREA_START
    mov edx, HUGE_ENTRIES
    mov rcx, OP_SHARED | PSC_ENTRY_2M
    mov r8d, EN_SIZE_2M
    call make_entries
    mov edi, entries
    mov esi, HUGE_ENTRIES
    call ghcb_psc
    mov rbx, rax
    mov r12, rdx
    EXPECT "ghcb.huge.exitinfo2", rbx, 0
    and r12d, CUR_ENTRY_MASK
    EXPECT "ghcb.huge.cur_entry", r12, HUGE_ENTRIES
    VALUE "ghcb.huge.vmgexits", [abs ghcb_psc_exits]
    mov edi, HUGE_ENTRIES
    mov esi, EN_PAGES_PER_2M
    call cur_page_mismatches
    EXPECT "ghcb.huge.cur_page", rax, 0

    mov esi, AREA_START
    mov edx, HUGE_ENTRIES
    mov rcx, OP_PRIVATE | PSC_ENTRY_2M
    mov r8d, EN_SIZE_2M
    call make_entries
    mov edi, entries
    mov esi, HUGE_ENTRIES
    call ghcb_psc
    EXPECT "ghcb.huge.back.exitinfo2", rax, 0

    ; The MSR protocol's single page, destructive like the rest. The 2 MiB PSC back to
    ; private left it guest-owned but not validated: validate it before writing it, and
    ; rescind that before it goes shared, as a guest of the platform must.
    mov edi, MSR_PAGE
    mov esi, RMP_PG_SIZE_4K
    mov edx, PVALIDATE_VALIDATE
    call snp_pvalidate
    EXPECT "ghcb.msr_page.validated", rax, 0
    mov edi, MSR_PAGE
    mov esi, EN_PAGE_SIZE
    mov rdx, MSR_TAG
    call fill_pattern
    mov edi, MSR_PAGE
    mov esi, RMP_PG_SIZE_4K
    mov edx, PVALIDATE_RESCIND
    call snp_pvalidate
    EXPECT "ghcb.msr_page.rescinded", rax, 0
    mov edi, MSR_PAGE
    mov esi, VMGEXIT_PSC_OP_SHARED
    call ghcb_msr_psc
    EXPECT "ghcb.msr_psc.shared", rax, GHCB_MSR_PSC_RESP
    mov edi, MSR_PAGE
    call en_shared_alias                ; shared now: look through the shared view
    mov rdi, rax
    mov esi, EN_PAGE_SIZE
    call count_nonzero
    EXPECT "ghcb.msr_psc.old_content_gone", rax, 0
    mov edi, MSR_PAGE
    mov esi, VMGEXIT_PSC_OP_PRIVATE
    call ghcb_msr_psc
    EXPECT "ghcb.msr_psc.private", rax, GHCB_MSR_PSC_RESP

    ; One entry too many: the library will not send it; sent raw, the host must refuse the
    ; header (end_entry 253 >= 253) before touching any entry.
    mov edi, entries
    mov esi, BATCH + 1
    call ghcb_psc
    mov rbx, EN_ABI_ERR_BAD_ARGUMENT
    EXPECT "ghcb.psc254.refused", rax, rbx

    mov esi, AREA_START
    mov edx, BATCH
    mov rcx, OP_SHARED
    mov r8d, EN_PAGE_SIZE
    call make_entries
    mov edi, BATCH << VMGEXIT_PSC_HDR_END_SHIFT     ; cur_entry 0, end_entry 253
    mov esi, entries
    mov edx, BATCH
    call ghcb_psc_raw
    mov rbx, rax
    mov r12, rdx
    mov r13, VMGEXIT_PSC_ERROR_INVALID_HDR
    EXPECT "ghcb.batch254.exitinfo2", rbx, r13
    and r12d, CUR_ENTRY_MASK
    EXPECT "ghcb.batch254.cur_entry", r12, 0
    ret
