; broken-psc-op.asm — the roundtrip scenario's two GHCB Page State Changes (16 4 KiB entries
; each, one PSC NAE event per direction) with ONE deliberate mistake: the entries that should
; make the range private again carry operation 2 (SHARED) instead of 1 (PRIVATE)
; (docs/abi.md §2.4: entry bits [55:52], PRIVATE 1, SHARED 2).
;
; The guest checks only SW_EXITINFO2 (0: the host serves what it is asked), so the guest side
; passes; the host's event log shows conversion 2 going to shared, and the conformance tests
; expect the roundtrip scenario's expectations to name exactly that ("conversion 2 of 2 …
; (direction)"). The same window as GuestStubs/scenarios/roundtrip.asm.
;
; Records: CHECK broken.ghcb.init (0), broken.to_shared.exitinfo2 (0),
; broken.to_private.exitinfo2 (0).

%include "enlighten.inc"
%include "interfaces.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
FLIP_GPA        equ AREA_START + 0x10000
ENTRIES         equ 0x10000 / EN_PAGE_SIZE
OP_SHARED       equ VMGEXIT_PSC_OP_SHARED << PSC_ENTRY_OP_SHIFT

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "convert-area"

global main

section .bss nobits alloc noexec write align=8
entries:        resq ENTRIES

section .text
; make_entries(rdi = operation bits): ENTRIES 4 KiB entries from FLIP_GPA, cur_page 0.
make_entries:
    mov eax, FLIP_GPA                   ; a 4 KiB aligned gpa already is gfn << 12
    mov edx, entries
    mov ecx, ENTRIES
.next:
    mov r8, rax
    or r8, rdi
    mov [rdx], r8
    add rax, EN_PAGE_SIZE
    add rdx, 8
    dec ecx
    jnz .next
    ret

main:
    call ghcb_init
    CHECK "broken.ghcb.init", rax, 0

    mov rdi, OP_SHARED
    call make_entries
    mov edi, entries
    mov esi, ENTRIES
    call ghcb_psc
    CHECK "broken.to_shared.exitinfo2", rax, 0

    mov rdi, OP_SHARED                  ; MISTAKE: back to private is VMGEXIT_PSC_OP_PRIVATE (1)
    call make_entries
    mov edi, entries
    mov esi, ENTRIES
    call ghcb_psc
    CHECK "broken.to_private.exitinfo2", rax, 0
    xor eax, eax
    ret
