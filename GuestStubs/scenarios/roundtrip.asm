; roundtrip.asm — a range private → shared → private through whichever interface the
; platform speaks (en_convert), proving each flip is destructive and the shared view works.
;
; The 2 MiB convert-area starts private and zero. 64 KiB of it (not 2 MiB aligned, so every
; interface sees 4 KiB granules) is flipped; the 16 KiB on either side must keep their content
; throughout. (Only that window is written and read: guest loops are slow on emulating
; backends, see shared/HOST-NOTES.md.)
;
; Records: VALUE roundtrip.platform, roundtrip.to_shared.rax, roundtrip.to_private.rax;
; CHECK roundtrip.to_shared (0), roundtrip.shared.old_content_gone (0 non-zero qwords in the
; shared view), roundtrip.shared.readback (0 mismatches), roundtrip.neighbours_intact
; (0 mismatches in the 16 KiB on either side), roundtrip.to_private (0),
; roundtrip.private.shared_content_gone (0), roundtrip.private.readback (0).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
FLIP_OFFSET     equ 0x10000
FLIP_SIZE       equ 0x10000
FLIP_GPA        equ AREA_START + FLIP_OFFSET
AFTER_FLIP      equ FLIP_OFFSET + FLIP_SIZE
MARGIN          equ 0x4000              ; neighbours checked on each side of the flipped range
WINDOW_OFFSET   equ FLIP_OFFSET - MARGIN
WINDOW_SIZE     equ MARGIN + FLIP_SIZE + MARGIN
PRIVATE_TAG     equ 0x5052495600000000  ; "PRIV" in the top half, the offset below it
SHARED_TAG      equ 0x5348415200000000  ; "SHAR"

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "convert-area"

section .text
scenario:
    call en_platform
    VALUE "roundtrip.platform", rax

    mov edi, AREA_START + WINDOW_OFFSET
    mov esi, WINDOW_SIZE
    mov rdx, PRIVATE_TAG + WINDOW_OFFSET
    call fill_pattern

    ; Private → shared: the shared view must not show what the private side held.
    mov edi, FLIP_GPA
    mov esi, FLIP_SIZE
    mov edx, EN_TO_SHARED
    call en_convert
    mov rbx, rax
    VALUE "roundtrip.to_shared.rax", rbx
    EXPECT "roundtrip.to_shared", rbx, 0

    mov edi, FLIP_GPA
    call en_shared_alias
    mov r12, rax                        ; where this guest sees the flipped range as shared
    mov rdi, r12
    mov esi, FLIP_SIZE
    call count_nonzero
    EXPECT "roundtrip.shared.old_content_gone", rax, 0

    mov rdi, r12
    mov esi, FLIP_SIZE
    mov rdx, SHARED_TAG + FLIP_OFFSET
    call fill_pattern
    mov rdi, r12
    mov esi, FLIP_SIZE
    mov rdx, SHARED_TAG + FLIP_OFFSET
    call count_mismatches
    EXPECT "roundtrip.shared.readback", rax, 0

    ; Only the requested range may change state.
    mov edi, AREA_START + WINDOW_OFFSET
    mov esi, MARGIN
    mov rdx, PRIVATE_TAG + WINDOW_OFFSET
    call count_mismatches
    mov rbx, rax
    mov edi, AREA_START + AFTER_FLIP
    mov esi, MARGIN
    mov rdx, PRIVATE_TAG + AFTER_FLIP
    call count_mismatches
    add rbx, rax
    EXPECT "roundtrip.neighbours_intact", rbx, 0

    ; Shared → private: what was written through the shared view is gone too.
    mov edi, FLIP_GPA
    mov esi, FLIP_SIZE
    mov edx, EN_TO_PRIVATE
    call en_convert
    mov rbx, rax
    VALUE "roundtrip.to_private.rax", rbx
    EXPECT "roundtrip.to_private", rbx, 0

    mov edi, FLIP_GPA
    mov esi, FLIP_SIZE
    call count_nonzero
    EXPECT "roundtrip.private.shared_content_gone", rax, 0

    mov edi, FLIP_GPA
    mov esi, FLIP_SIZE
    mov rdx, PRIVATE_TAG + FLIP_OFFSET
    call fill_pattern
    mov edi, FLIP_GPA
    mov esi, FLIP_SIZE
    mov rdx, PRIVATE_TAG + FLIP_OFFSET
    call count_mismatches
    EXPECT "roundtrip.private.readback", rax, 0
    ret
