; pvalidate-operands.asm — PVALIDATE with operands the instruction defines an answer for,
; through a request site of the stub's own (so every register is the stub's choice):
;   1. RAX non-canonical (0xDEAD000000400000): #GP(0) at the instruction, nothing validated;
;      the #GP handler records the fault and resumes after the instruction.
;   2. RCX and RDX with bits 63:32 set and ECX = 0, EDX = 1: the instruction reads ECX and
;      EDX, so this validates the 4 KiB page (RAX 0, CF 0).
;   3. ECX = 2 (no such page size): FAIL_INPUT (RAX 1).
; Run as ghcb (trap transport). docs/interfaces.md "PVALIDATE operands" gives the sources.
%include "enlighten.inc"
%include "interfaces.inc"

PAGE_GPA        equ 0x400000
NONCANONICAL    equ 0xDEAD000000400000      ; bits 63:48 dropped, this would be PAGE_GPA
UPPER_HALF      equ 0xFFFFFFFF00000000
GP_VECTOR       equ 13
PVALIDATE_LEN   equ 4

PLAN_RANGE PAGE_GPA, PAGE_GPA + EN_PAGE_SIZE, PLAN_ZERO, PLAN_PRIVATE, "pvalidate-area"

global main
global __enlighten_site_stub_pvalidate

section .bss
gp_count:       resq 1
gp_error:       resq 1
gp_rip:         resq 1

section .text
; hook(rdi = vector, rsi = error code, rdx = &RIP) -> rax = 1 to resume (idt.asm). #GP is
; a fault, taken at the PVALIDATE: resume after it.
gp_handler:
    inc qword [abs gp_count]
    mov [abs gp_error], rsi
    mov rax, [rdx]
    mov [abs gp_rip], rax
    add qword [rdx], PVALIDATE_LEN
    mov eax, 1
    ret

; pvalidate_raw(rdi = RAX, rsi = RCX, rdx = RDX) -> rax = RAX after, rdx = CF
pvalidate_raw:
    mov rax, rdi
    mov rcx, rsi
__enlighten_site_stub_pvalidate:
    db 0xF2, 0x0F, 0x01, 0xFF               ; PVALIDATE
    setc dl
    movzx edx, dl
    ret

main:
    push rbx
    lea rax, [rel gp_handler]
    mov [abs en_exception_hooks + GP_VECTOR * 8], rax

    ; Populated at launch, the page starts validated: rescind it first.
    mov rdi, PAGE_GPA
    xor esi, esi
    xor edx, edx
    call pvalidate_raw
    CHECK "rescind", rax, 0

    mov rdi, NONCANONICAL
    xor esi, esi
    mov edx, 1
    call pvalidate_raw
    mov rbx, rax                            ; as it went in: the instruction did not complete
    CHECK "gp_count", [abs gp_count], 1
    CHECK "gp_error_code", [abs gp_error], 0
    lea rcx, [rel __enlighten_site_stub_pvalidate]
    CHECK "gp_rip", [abs gp_rip], rcx
    mov rcx, NONCANONICAL
    CHECK "rax_untouched", rbx, rcx

    mov rdi, PAGE_GPA                       ; not validated by the #GP above
    mov rsi, UPPER_HALF                     ; ECX = 0: 4 KiB
    mov rdx, UPPER_HALF | 1                 ; EDX = 1: validate
    call pvalidate_raw
    CHECK "upper_halves_ignored", rax, 0
    CHECK "upper_halves_changed", rdx, 0    ; CF 0: the page was not validated before

    mov rdi, PAGE_GPA
    mov esi, 2
    xor edx, edx
    call pvalidate_raw
    CHECK "ecx_2_fail_input", rax, PVALIDATE_FAIL_INPUT
    xor eax, eax
    pop rbx
    ret
