; broken-mapgpa-no-shared-bit.asm — the roundtrip scenario's two TDVMCALL<MapGPA> requests with
; ONE deliberate mistake: the private→shared request leaves the shared bit out of R12, which
; asks for private (docs/abi.md §3.3: the shared bit set asks for shared, clear for private).
;
; The guest checks only R10 (SUCCESS: the host serves what it is asked), so the guest side
; passes; the host's event log shows conversion 1 going to private, and the conformance tests
; expect the roundtrip scenario's expectations to name exactly that ("conversion 1 of 2 …
; (direction)"). The same window as GuestStubs/scenarios/roundtrip.asm.
;
; Records: CHECK broken.to_shared.r10 (0), broken.to_private.r10 (0).

%include "enlighten.inc"
%include "interfaces.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
FLIP_GPA        equ AREA_START + 0x10000
FLIP_SIZE       equ 0x10000

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "convert-area"

global main

section .text
main:
    mov edi, FLIP_GPA                   ; MISTAKE: going shared needs FLIP_GPA | tdx_shared_bit()
    mov esi, FLIP_SIZE
    call tdx_map_gpa
    CHECK "broken.to_shared.r10", rax, 0

    mov edi, FLIP_GPA
    mov esi, FLIP_SIZE
    call tdx_map_gpa
    CHECK "broken.to_private.r10", rax, 0
    xor eax, eax
    ret
