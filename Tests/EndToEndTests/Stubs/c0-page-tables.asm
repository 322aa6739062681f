; c0-page-tables.asm — an SEV-SNP guest that switches to page tables of its own whose CR3 and
; table pointers lack the C-bit (its leaves have it). SNP hardware walks page tables as
; private whatever their C-bit (AMD APM vol. 2 §15.34.5), so there this works; this runner's
; guest MMU can only walk private tables through C=1, so here the walk fails and the vCPU
; shuts down. The test checks that the diagnosis says so, naming the table.
%include "enlighten.inc"
global main
section .bss
align 4096
pml4: resb 4096
pdpt: resb 4096
pd:   resb 4096
section .text
main:
    mov eax, 0x8000001F
    cpuid
    and ebx, 0x3F
    mov ecx, ebx
    mov rdx, 1
    shl rdx, cl                 ; C-bit
    ; pd: 2 MiB leaves for 0..1 GiB, with C
    mov edi, pd
    xor esi, esi
.fill:
    mov rax, rsi
    shl rax, 21
    or rax, 0xE3               ; P W A D PS
    or rax, rdx
    mov [rdi + rsi*8], rax
    inc esi
    cmp esi, 512
    jb .fill
    mov eax, pd
    or eax, 0x23
    mov [abs pdpt], rax        ; no C in the pointer
    mov eax, pdpt
    or eax, 0x23
    mov [abs pml4], rax
    mov rax, cr3
    push rax
    mov eax, pml4
    mov cr3, rax               ; no C in CR3
    mov rax, [abs pdpt]        ; a data read through the new tables
    pop rax
    mov cr3, rax
    xor eax, eax
    ret
