; broken-ghcb-private.asm — a hostile SEV-SNP guest whose GHCB is not in shared memory: it
; registers its GHCB, makes that page private with the MSR protocol, and then sends a
; well-formed Page State Change through it. A hypervisor cannot use a private GHCB; the host
; must refuse the request as malformed (SW_EXITINFO1 = 2, GHCB_HV_RESP_MALFORMED_INPUT, with a
; GHCB_ERR_* reason) without converting anything, and serve the guest again once the GHCB is
; shared again.
;
; Records: CHECK ghcbpriv.init (0), ghcbpriv.ghcb_to_private (0x015);
; VALUE ghcbpriv.exitinfo1, ghcbpriv.exitinfo2 (the answer read back from the private GHCB);
; CHECK ghcbpriv.ghcb_to_shared (0x015), ghcbpriv.after.exitinfo2 (0),
; ghcbpriv.after.back.exitinfo2 (0).

%include "enlighten.inc"
%include "interfaces.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
OP_SHARED       equ VMGEXIT_PSC_OP_SHARED << PSC_ENTRY_OP_SHIFT
OP_PRIVATE      equ VMGEXIT_PSC_OP_PRIVATE << PSC_ENTRY_OP_SHIFT

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "hostile-area"

global main

section .bss nobits alloc noexec write align=8
entry:          resq 1

section .text
main:
    call ghcb_init
    CHECK "ghcbpriv.init", rax, 0

    mov edi, ghcb_page
    mov esi, VMGEXIT_PSC_OP_PRIVATE
    call ghcb_msr_psc
    CHECK "ghcbpriv.ghcb_to_private", rax, GHCB_MSR_PSC_RESP

    ; A well-formed PSC (one 4 KiB entry to shared) in the private GHCB's shared buffer.
    mov qword [abs ghcb_page + GHCB_SHARED_BUFFER], 0              ; cur_entry 0, end_entry 0
    mov rax, AREA_START | OP_SHARED
    mov [abs ghcb_page + GHCB_SHARED_BUFFER + VMGEXIT_PSC_HDR_SIZE], rax
    mov edi, SVM_VMGEXIT_PSC
    mov esi, ghcb_page + GHCB_SHARED_BUFFER
    mov edx, GHCB_VALID_SW_ALL
    xor ecx, ecx
    call ghcb_vmgexit_raw
    VALUE "ghcbpriv.exitinfo2", rax     ; first: VALUE keeps every register but rax
    VALUE "ghcbpriv.exitinfo1", rdx

    mov edi, ghcb_page
    mov esi, VMGEXIT_PSC_OP_SHARED
    call ghcb_msr_psc
    CHECK "ghcbpriv.ghcb_to_shared", rax, GHCB_MSR_PSC_RESP

    mov rax, AREA_START | OP_SHARED
    mov [abs entry], rax
    mov edi, entry
    mov esi, 1
    call ghcb_psc
    CHECK "ghcbpriv.after.exitinfo2", rax, 0
    mov rax, AREA_START | OP_PRIVATE
    mov [abs entry], rax
    mov edi, entry
    mov esi, 1
    call ghcb_psc
    CHECK "ghcbpriv.after.back.exitinfo2", rax, 0
    xor eax, eax
    ret
