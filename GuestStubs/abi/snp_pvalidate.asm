; snp_pvalidate.asm — SEV-SNP PVALIDATE, the guest's half of every private conversion: a
; page the hypervisor assigned to the guest (PSC to private) is unusable until validated,
; and validation must be rescinded before a page goes back to shared (Linux
; arch/x86/coco/sev/core.c __set_pages_state, edk2 SnpPageStateChangeInternal.c).
;
; The one PVALIDATE (F2 0F 01 FF; nasm has no mnemonic) is the request site
; __enlighten_site_snp_pvalidate: off SNP hardware it raises #UD, so the runner serves it.
;
;   snp_pvalidate(rdi = virtual address, esi = RMP_PG_SIZE_4K | RMP_PG_SIZE_2M,
;                 edx = PVALIDATE_VALIDATE | PVALIDATE_RESCIND) -> rax
;       rax = 0 success, PVALIDATE_FAIL_INPUT (1), PVALIDATE_FAIL_SIZEMISMATCH (6), or
;       PVALIDATE_FAIL_NOUPDATE (255) when the instruction left RAX 0 with CF set (the page
;       already had that state: Linux and OVMF treat it as fatal, a double validation).
;   snp_pvalidate_range(rdi = virtual address, rsi = size in bytes, edx = validate) -> rax
;       every page of the range: 2 MiB where the address is 2 MiB aligned and 2 MiB remain,
;       falling back to 512 x 4 KiB on FAIL_SIZEMISMATCH (Linux pval_pages); rax = 0, or the
;       first failing result (the rest is not attempted), EN_ABI_ERR_BAD_ARGUMENT for a size
;       or address that is not 4 KiB aligned.
; Both preserve rbx, rbp, r12-r15 and clobber rcx, rdx, rsi, rdi, r8-r11.

%define EN_ABI_SOURCE
%include "enlighten.inc"
%include "interfaces.inc"

global snp_pvalidate
global snp_pvalidate_range
global __enlighten_site_snp_pvalidate

PAGE_MASK_4K            equ EN_PAGE_SIZE - 1
MASK_2M                 equ EN_SIZE_2M - 1

section .text
snp_pvalidate:
    mov rax, rdi
    mov ecx, esi
    ; edx is already the validate operand
__enlighten_site_snp_pvalidate:
    db 0xF2, 0x0F, 0x01, 0xFF           ; PVALIDATE: rax = GVA, rcx = size, rdx = validate
    jnc .done
    test rax, rax
    jnz .done
    mov eax, PVALIDATE_FAIL_NOUPDATE    ; RAX 0 and CF 1: nothing changed
.done:
    ret

; r12 = next address, r13 = bytes left, r14d = validate
snp_pvalidate_range:
    EN_SAVE_NONVOLATILE
    mov r12, rdi
    mov r13, rsi
    mov r14d, edx
    mov rax, EN_ABI_ERR_BAD_ARGUMENT
    mov rcx, r12
    or rcx, r13
    test ecx, PAGE_MASK_4K
    jnz .out
    xor eax, eax
.next:
    test r13, r13
    jz .out
    test r12d, MASK_2M                  ; 2 MiB needs an aligned address ...
    jnz .one_page
    cmp r13, EN_SIZE_2M                 ; ... and 2 MiB still to do
    jb .one_page
    mov rdi, r12
    mov esi, RMP_PG_SIZE_2M
    mov edx, r14d
    call snp_pvalidate
    test rax, rax
    jnz .huge_failed
    add r12, EN_SIZE_2M
    sub r13, EN_SIZE_2M
    jmp .next
.huge_failed:
    cmp rax, PVALIDATE_FAIL_SIZEMISMATCH
    jne .out
    mov r15d, EN_PAGES_PER_2M           ; the RMP holds 4 KiB entries here: page by page
    jmp .pages
.one_page:
    mov r15d, 1
.pages:                                 ; r15d pages of 4 KiB from r12
    mov rdi, r12
    mov esi, RMP_PG_SIZE_4K
    mov edx, r14d
    call snp_pvalidate
    test rax, rax
    jnz .out
    add r12, EN_PAGE_SIZE
    sub r13, EN_PAGE_SIZE
    dec r15d
    jnz .pages
    jmp .next
.out:
    EN_RESTORE_NONVOLATILE
    ret
