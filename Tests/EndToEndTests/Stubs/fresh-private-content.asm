; fresh-private-content.asm — what a page made private at run time holds, and that validation
; alone keeps content. Converts a page to shared, writes through the shared view, converts it
; back (en_convert: the whole guest half too) and reports the first qword it then reads
; (VALUE fresh.first_qword): zero on KVM and after TDX's ACCEPT, noise on SEV-SNP, never the
; shared content (CHECK fresh.shared_content_gone). Then writes through the private view,
; takes its validation/acceptance back and gives it again without any conversion, and the
; content must still be there (CHECK fresh.revalidated_kept; SNP only: PVALIDATE toggles the
; RMP's Validated bit and leaves the page alone).
%include "enlighten.inc"
%include "interfaces.inc"

PAGE_GPA        equ 0x400000
PATTERN         equ 0x5348_4152_4544_0001
PRIVATE_PATTERN equ 0x5052_4956_4154_0002

global main

section .text
main:
    push rbx
    push r12
    mov edi, PAGE_GPA                   ; RAM outside the plan: make it usable first
    mov esi, EN_PAGE_SIZE
    call en_accept
    CHECK "fresh.accept", rax, 0
    mov edi, PAGE_GPA
    mov esi, EN_PAGE_SIZE
    mov edx, EN_TO_SHARED
    call en_convert
    CHECK "fresh.to_shared", rax, 0
    mov edi, PAGE_GPA
    call en_shared_alias
    mov rbx, PATTERN
    mov [rax], rbx
    mov edi, PAGE_GPA
    mov esi, EN_PAGE_SIZE
    mov edx, EN_TO_PRIVATE
    call en_convert
    CHECK "fresh.to_private", rax, 0
    mov r12, [abs PAGE_GPA]
    VALUE "fresh.first_qword", r12
    xor ecx, ecx
    cmp r12, rbx
    sete cl
    CHECK "fresh.shared_content_gone", rcx, 0

    call en_platform
    cmp eax, EN_PLATFORM_SNP
    jne .done
    mov rbx, PRIVATE_PATTERN
    mov [abs PAGE_GPA], rbx
    mov edi, PAGE_GPA
    mov esi, EN_PAGE_SIZE
    call en_unaccept
    CHECK "fresh.rescind", rax, 0
    mov edi, PAGE_GPA
    mov esi, EN_PAGE_SIZE
    call en_accept
    CHECK "fresh.revalidate", rax, 0
    mov rcx, [abs PAGE_GPA]
    CHECK "fresh.revalidated_kept", rcx, rbx
.done:
    xor eax, eax
    pop r12
    pop rbx
    ret
