; first-touch-write.asm — a guest whose first touch of freshly converted private memory is a
; write, and which validates (SNP: PVALIDATE in its #VC handler, at CR2) or accepts (TDX:
; TDG.MEM.PAGE.ACCEPT in its #VE handler, at the VE info's GPA) on demand. The fault is taken
; at the write, so the handler's return runs the write again and it lands; a second write
; faults no more. Run as ghcb, or as tdx with SEPT_VE_DISABLE clear.
%include "enlighten.inc"
%include "interfaces.inc"

PAGE_GPA        equ 0x400000
WRITE_OFFSET    equ 0x28
PATTERN         equ 0x0123_4567_89AB_CDEF
VC_VECTOR       equ 29
VE_VECTOR       equ 20
PAGE_NOT_VALIDATED equ 0x404            ; SVM_EXIT_PAGE_NOT_VALIDATED
EPT_VIOLATION   equ 48                  ; TDG.VP.VEINFO.GET exit reason

global main

section .bss
vc_count:       resq 1
vc_cr2:         resq 1
ve_count:       resq 1
ve_gla:         resq 1

section .text
; hook(rdi = vector, rsi = error code, rdx = &RIP) -> rax = 1 to resume (idt.asm).
vc_handler:
    xor eax, eax
    cmp rsi, PAGE_NOT_VALIDATED
    jne .done
    inc qword [abs vc_count]
    mov rdi, cr2
    mov [abs vc_cr2], rdi
    and rdi, ~(EN_PAGE_SIZE - 1)
    mov esi, RMP_PG_SIZE_4K
    mov edx, PVALIDATE_VALIDATE
    call snp_pvalidate
    test rax, rax
    sete al
    movzx eax, al
.done:
    ret

ve_handler:
    inc qword [abs ve_count]
    call tdx_veinfo_get
    mov [abs ve_gla], r8
    xor eax, eax
    cmp rcx, EPT_VIOLATION
    jne .done
    mov rdi, r9
    and rdi, ~(EN_PAGE_SIZE - 1)        ; | TDX_PAGE_LEVEL_4K
    call tdx_accept_page
    test rax, rax
    sete al
    movzx eax, al
.done:
    ret

main:
    push rbx
    call en_platform
    cmp eax, EN_PLATFORM_SNP
    jne .tdx
    lea rax, [rel vc_handler]
    mov [abs en_exception_hooks + VC_VECTOR * 8], rax
    jmp .installed
.tdx:
    lea rax, [rel ve_handler]
    mov [abs en_exception_hooks + VE_VECTOR * 8], rax
.installed:
    ; Shared and private again, through the host's half alone: the page is not validated or
    ; accepted afterwards.
    mov edi, PAGE_GPA
    mov esi, EN_PAGE_SIZE
    mov edx, EN_TO_SHARED
    call en_request_conversion
    CHECK "to_shared", rax, 0
    mov edi, PAGE_GPA
    mov esi, EN_PAGE_SIZE
    mov edx, EN_TO_PRIVATE
    call en_request_conversion
    CHECK "to_private", rax, 0

    mov rbx, PATTERN
write_first:
    mov [abs PAGE_GPA + WRITE_OFFSET], rbx      ; first touch: faults, handled, runs again
    mov rcx, [abs PAGE_GPA + WRITE_OFFSET]
    CHECK "first_write_landed", rcx, rbx
    not rbx
    mov [abs PAGE_GPA + WRITE_OFFSET + 8], rbx  ; validated / accepted now: no fault
    mov rcx, [abs PAGE_GPA + WRITE_OFFSET + 8]
    CHECK "second_write_landed", rcx, rbx
    mov rcx, [abs vc_count]
    add rcx, [abs ve_count]
    CHECK "faults", rcx, 1
    VALUE "vc_cr2", [abs vc_cr2]
    VALUE "ve_gla", [abs ve_gla]
    xor eax, eax
    pop rbx
    ret
