; unencrypted-read.asm — an SEV-SNP guest reads its own private memory through the shared
; (C=0) view: a page it validated and wrote through the private view, and a page the plan
; never populated (guest-owned, not validated). The RMP checks no C=0 read (AMD APM vol. 2
; table 15-39), so neither read faults or converts anything: each returns the page's
; ciphertext, not what the guest wrote. Then a C=0 write, which the RMP does check: KVM
; converts that page to shared implicitly and the write lands.
%include "enlighten.inc"
%include "interfaces.inc"

UNVALIDATED_GPA equ 0x400000           ; RAM outside the plan: guest-owned, not validated
PATTERN         equ 0x5A5A_1234_C0DE_F00D

global main

section .bss
align 4096
private_page:   resb EN_PAGE_SIZE       ; launch-validated with the image

section .text
main:
    push rbx
    mov rbx, PATTERN
    mov [abs private_page], rbx         ; through the identity (C=1) view
    mov edi, private_page
    call en_shared_alias                ; the C=0 view of the same GPA
    mov rcx, [rax]
    xor rcx, rbx                        ; nonzero: not the plaintext
    setnz cl
    movzx ecx, cl
    CHECK "c0.read.validated.differs", rcx, 1
    mov rcx, [abs private_page]
    CHECK "c1.read.validated.kept", rcx, rbx

    mov edi, UNVALIDATED_GPA
    call en_shared_alias
    mov rcx, [rax]                      ; no #VC: C=0 reads meet no validation check
    VALUE "c0.read.unvalidated", rcx

    mov edi, UNVALIDATED_GPA
    call en_shared_alias
    mov [rax], rbx                      ; C=0 write: converted to shared, then it lands
    mov rcx, [rax]
    CHECK "c0.write.landed", rcx, rbx
    xor eax, eax
    pop rbx
    ret
