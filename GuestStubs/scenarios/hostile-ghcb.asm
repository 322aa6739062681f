; hostile-ghcb.asm — malformed SEV-SNP requests (SNP platform only): bad PSC headers and
; entries, a range outside guest memory, malformed GHCBs, bad MSR-protocol PSCs. Each must be
; answered with its spec error, and the guest carries on; a valid PSC afterwards must still
; work.
;
; Expected values (docs/abi.md §2.2–§2.5; Linux arch/x86/kvm/svm/sev.c and asm/sev-common.h):
;   PSC (SW_EXITINFO2): end_entry 253 → INVALID_HDR (1 << 32 | 1); an undefined operation and
;   a 2 MiB entry with an unaligned GFN → INVALID_ENTRY (1 << 32 | 2) — for the operation this
;   is the GHCB spec's answer and Enlighten's default; Linux KVM instead completes undefined
;   operations without converting; cur_entry > end_entry → 0 with nothing done; a GFN outside
;   guest memory → ERROR_GENERIC (0x100 << 32), the VMM having failed the conversion.
;   Malformed GHCB (SW_EXITINFO1 = 2, SW_EXITINFO2 = GHCB_ERR_*): usage != 0 → 2 (INVALID_USAGE);
;   SW_EXITINFO1/2 not marked valid → 4 (MISSING_INPUT); SW_SCRATCH not valid for a PSC → 4;
;   scratch inside the GHCB page but outside its shared buffer → 3 (INVALID_SCRATCH_AREA);
;   an undefined exit code → 6 (INVALID_EVENT).
;   MSR protocol: undefined operation, or a page outside guest memory → 0x8000000000000015.
;
; Records: CHECK ghcb.platform (2), ghcb.init (0), ghcb.end_entry_253.exitinfo2,
; ghcb.end_entry_253.cur_entry (0), ghcb.unknown_op.exitinfo2, ghcb.2m_unaligned.exitinfo2,
; ghcb.cur_after_end.exitinfo2 (0), ghcb.cur_after_end.header (unchanged),
; ghcb.cur_after_end.content_kept (0 mismatches), ghcb.unbacked.exitinfo2,
; ghcb.usage.exitinfo1/2, ghcb.missing_valid.exitinfo1/2, ghcb.missing_scratch.exitinfo1/2,
; ghcb.scratch_outside.exitinfo1/2, ghcb.unknown_exit.exitinfo1/2, ghcb.msr_psc.unknown_op,
; ghcb.msr_psc.unbacked, ghcb.after_hostile.exitinfo2 (0), ghcb.after_hostile.back.exitinfo2 (0).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
BATCH           equ VMGEXIT_PSC_MAX_COUNT
OP_SHARED       equ VMGEXIT_PSC_OP_SHARED << PSC_ENTRY_OP_SHIFT
OP_PRIVATE      equ VMGEXIT_PSC_OP_PRIVATE << PSC_ENTRY_OP_SHIFT
OP_UNDEFINED    equ 7                   ; operations 5..15 are reserved
OP_UNDEFINED_BITS equ OP_UNDEFINED << PSC_ENTRY_OP_SHIFT
UNALIGNED_2M    equ AREA_START + EN_PAGE_SIZE   ; a 4 KiB aligned GFN that is not 2 MiB aligned
CUR_ENTRY_MASK  equ 0xFFFF
HDR_CUR_AFTER_END equ 1                 ; cur_entry 1, end_entry 0
KEEP_TAG        equ 0x4B45455000000000  ; "KEEP"
BAD_SCRATCH_OFFSET equ 0x100            ; inside the GHCB page, before its shared buffer
UNDEFINED_EXIT_CODE equ 0x80000FFF      ; no SVM_EXIT / SVM_VMGEXIT code is defined there

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "hostile-area"

section .bss nobits alloc noexec write align=8
entries:        resq BATCH

section .text

; one_entry(rsi = gpa, rcx = op/size bits): entries[0] only.
one_entry:
    mov edi, entries
    mov edx, 1
    mov r8d, EN_PAGE_SIZE
    jmp build_psc_entries

; raw_one(rdi = header) -> rax SW_EXITINFO2, rdx header after: entries[0] sent under rdi.
raw_one:
    mov esi, entries
    mov edx, 1
    jmp ghcb_psc_raw

; nothing_to_do(): a PSC buffer a host that ignores the malformation would find empty.
nothing_to_do:
    push rdi
    mov edi, ghcb_page
    call en_shared_alias                ; the GHCB is shared: write it through the shared view
    pop rdi
    mov rcx, HDR_CUR_AFTER_END
    mov [rax + GHCB_SHARED_BUFFER], rcx
    ret

; malformed(rdi = exit code, rsi = scratch, edx = valid byte, ecx = usage) -> r12 info1, r13 info2
malformed:
    push rdi
    push rsi
    push rdx
    push rcx
    call nothing_to_do
    pop rcx
    pop rdx
    pop rsi
    pop rdi
    call ghcb_vmgexit_raw
    mov r12, rdx
    mov r13, rax
    ret

scenario:
    REQUIRE_GHCB
    mov r14, VMGEXIT_PSC_ERROR_INVALID_ENTRY

    ; end_entry = 253: one past the last index a GHCB can hold.
    mov edi, entries
    mov esi, AREA_START
    mov edx, BATCH
    mov rcx, OP_SHARED
    mov r8d, EN_PAGE_SIZE
    call build_psc_entries
    mov edi, BATCH << VMGEXIT_PSC_HDR_END_SHIFT
    mov esi, entries
    mov edx, BATCH
    call ghcb_psc_raw
    mov rbx, rdx
    mov r12, VMGEXIT_PSC_ERROR_INVALID_HDR
    EXPECT "ghcb.end_entry_253.exitinfo2", rax, r12
    and ebx, CUR_ENTRY_MASK
    EXPECT "ghcb.end_entry_253.cur_entry", rbx, 0

    ; An undefined operation.
    mov esi, AREA_START
    mov rcx, OP_UNDEFINED_BITS
    call one_entry
    xor edi, edi
    call raw_one
    EXPECT "ghcb.unknown_op.exitinfo2", rax, r14

    ; A 2 MiB entry whose GFN is not 2 MiB aligned.
    mov esi, UNALIGNED_2M
    mov rcx, OP_SHARED | PSC_ENTRY_2M
    call one_entry
    xor edi, edi
    call raw_one
    EXPECT "ghcb.2m_unaligned.exitinfo2", rax, r14

    ; cur_entry > end_entry: complete, nothing done — the page keeps its private content.
    mov edi, AREA_START
    mov esi, EN_PAGE_SIZE
    mov rdx, KEEP_TAG
    call fill_pattern
    mov esi, AREA_START
    mov rcx, OP_SHARED
    call one_entry
    mov edi, HDR_CUR_AFTER_END
    call raw_one
    mov rbx, rdx
    EXPECT "ghcb.cur_after_end.exitinfo2", rax, 0
    EXPECT "ghcb.cur_after_end.header", rbx, HDR_CUR_AFTER_END
    mov edi, AREA_START
    mov esi, EN_PAGE_SIZE
    mov rdx, KEEP_TAG
    call count_mismatches
    EXPECT "ghcb.cur_after_end.content_kept", rax, 0

    ; A page outside every memslot.
    mov rsi, EN_UNBACKED_GPA
    mov rcx, OP_SHARED
    call one_entry
    xor edi, edi
    call raw_one
    mov rbx, VMGEXIT_PSC_ERROR_GENERIC
    EXPECT "ghcb.unbacked.exitinfo2", rax, rbx

    ; Malformed GHCBs: SW_EXITINFO1 = 2 (malformed input), SW_EXITINFO2 = the reason.
    mov r15d, ghcb_page + GHCB_SHARED_BUFFER    ; the scratch a PSC normally names

    mov edi, SVM_VMGEXIT_PSC
    mov rsi, r15
    mov edx, GHCB_VALID_SW_ALL
    mov ecx, 1                                  ; any usage but 0
    call malformed
    EXPECT "ghcb.usage.exitinfo1", r12, GHCB_HV_RESP_MALFORMED_INPUT
    EXPECT "ghcb.usage.exitinfo2", r13, GHCB_ERR_INVALID_USAGE

    mov edi, SVM_VMGEXIT_PSC
    mov rsi, r15
    mov edx, GHCB_VALID_SW_EXIT_CODE | GHCB_VALID_SW_SCRATCH
    xor ecx, ecx
    call malformed
    EXPECT "ghcb.missing_valid.exitinfo1", r12, GHCB_HV_RESP_MALFORMED_INPUT
    EXPECT "ghcb.missing_valid.exitinfo2", r13, GHCB_ERR_MISSING_INPUT

    mov edi, SVM_VMGEXIT_PSC
    mov rsi, r15
    mov edx, GHCB_VALID_SW_ALL & ~GHCB_VALID_SW_SCRATCH
    xor ecx, ecx
    call malformed
    EXPECT "ghcb.missing_scratch.exitinfo1", r12, GHCB_HV_RESP_MALFORMED_INPUT
    EXPECT "ghcb.missing_scratch.exitinfo2", r13, GHCB_ERR_MISSING_INPUT

    mov edi, SVM_VMGEXIT_PSC
    mov esi, ghcb_page + BAD_SCRATCH_OFFSET
    mov edx, GHCB_VALID_SW_ALL
    xor ecx, ecx
    call malformed
    EXPECT "ghcb.scratch_outside.exitinfo1", r12, GHCB_HV_RESP_MALFORMED_INPUT
    EXPECT "ghcb.scratch_outside.exitinfo2", r13, GHCB_ERR_INVALID_SCRATCH_AREA

    mov edi, UNDEFINED_EXIT_CODE
    mov rsi, r15
    mov edx, GHCB_VALID_SW_ALL
    xor ecx, ecx
    call malformed
    EXPECT "ghcb.unknown_exit.exitinfo1", r12, GHCB_HV_RESP_MALFORMED_INPUT
    EXPECT "ghcb.unknown_exit.exitinfo2", r13, GHCB_ERR_INVALID_EVENT

    ; The MSR protocol's single-page PSC.
    mov r12, GHCB_MSR_PSC_RESP_ERROR
    mov edi, AREA_START
    mov esi, OP_UNDEFINED
    call ghcb_msr_psc
    EXPECT "ghcb.msr_psc.unknown_op", rax, r12
    mov rdi, EN_UNBACKED_GPA
    mov esi, VMGEXIT_PSC_OP_SHARED
    call ghcb_msr_psc
    EXPECT "ghcb.msr_psc.unbacked", rax, r12

    ; Still served after all that.
    mov esi, AREA_START
    mov rcx, OP_SHARED
    call one_entry
    mov edi, entries
    mov esi, 1
    call ghcb_psc
    EXPECT "ghcb.after_hostile.exitinfo2", rax, 0
    mov esi, AREA_START
    mov rcx, OP_PRIVATE
    call one_entry
    mov edi, entries
    mov esi, 1
    call ghcb_psc
    EXPECT "ghcb.after_hostile.back.exitinfo2", rax, 0
    ret
