; icebp.asm — a guest that executes ICEBP (INT1, opcode F1): a trap-like #DB its own handler
; takes after the instruction, with no cause in DR6 (no B0-B3, BD, BS or BT: Linux's
; exc_debug_user reads "dr6 has no reason to give us about the origin" as an icebp), and the
; guest runs on.
;
; It converts a page first, so the runner arms its hardware breakpoints and KVM reports the
; guest's #DB to the runner (see single-step.asm); where KVM emulates every instruction (this
; project's kvm_pvm hosts) its emulator, which has no INT1, fails on it instead. Either way
; the runner must hand the guest its #DB. Run it on each platform with the trap transport.
%include "enlighten.inc"
%include "interfaces.inc"

AREA_GPA        equ 0x400000
DB_VECTOR       equ 1
DR6_CAUSES      equ 0xE00F                ; BT, BS, BD and B0-B3 (Intel SDM vol. 3 §17.2.3)
DR6_INIT        equ 0xFFFF0FF0

PLAN_RANGE AREA_GPA, AREA_GPA + EN_PAGE_SIZE, PLAN_ZERO, PLAN_PRIVATE, "icebp-area"

global main

section .bss
db_count:       resq 1
db_rip:         resq 1
db_causes:      resq 1

section .text
db_handler:
    inc qword [abs db_count]
    mov rax, [rdx]
    mov [abs db_rip], rax
    mov rax, dr6
    and eax, DR6_CAUSES
    mov [abs db_causes], rax
    mov eax, DR6_INIT
    mov dr6, rax
    mov eax, 1
    ret

main:
    lea rax, [rel db_handler]
    mov [abs en_exception_hooks + DB_VECTOR * 8], rax
    mov edi, AREA_GPA
    mov esi, EN_PAGE_SIZE
    mov edx, EN_TO_SHARED
    call en_convert
    CHECK "to_shared", rax, 0

    db 0xF1                               ; ICEBP
after_icebp:
    CHECK "db_count", [abs db_count], 1
    lea rcx, [rel after_icebp]
    CHECK "db_rip", [abs db_rip], rcx
    CHECK "db_dr6_causes", [abs db_causes], 0

    mov edi, AREA_GPA
    mov esi, EN_PAGE_SIZE
    mov edx, EN_TO_PRIVATE
    call en_convert
    CHECK "to_private", rax, 0
    xor eax, eax
    ret
