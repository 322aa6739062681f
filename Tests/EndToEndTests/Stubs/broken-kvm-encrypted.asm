; broken-kvm-encrypted.asm — the roundtrip scenario's two KVM_HC_MAP_GPA_RANGE requests with
; ONE deliberate mistake: the private→shared request sets KVM_MAP_GPA_RANGE_ENCRYPTED (bit 4),
; which asks for private (docs/abi.md §1.1: ENCRYPTED = 0x10 means private, DECRYPTED = 0 shared).
;
; The guest checks only what a wrong guest would believe it got (rax 0: the host serves what it
; is asked), so the guest side passes; the host's event log shows conversion 1 going to private,
; and the conformance tests expect the roundtrip scenario's expectations to name exactly that
; ("conversion 1 of 2 … (direction)"). The same window as GuestStubs/scenarios/roundtrip.asm.
;
; Records: CHECK broken.to_shared.rax (0), broken.to_private.rax (0).

%include "enlighten.inc"
%include "interfaces.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
FLIP_GPA        equ AREA_START + 0x10000
FLIP_PAGES      equ 0x10000 / EN_PAGE_SIZE

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "convert-area"

global main

section .text
main:
    mov edi, FLIP_GPA
    mov esi, FLIP_PAGES
    mov edx, KVM_MAP_GPA_RANGE_ENCRYPTED    ; MISTAKE: going shared needs DECRYPTED (0)
    call kvm_map_gpa_range
    CHECK "broken.to_shared.rax", rax, 0

    mov edi, FLIP_GPA
    mov esi, FLIP_PAGES
    mov edx, KVM_MAP_GPA_RANGE_ENCRYPTED
    call kvm_map_gpa_range
    CHECK "broken.to_private.rax", rax, 0
    xor eax, eax
    ret
