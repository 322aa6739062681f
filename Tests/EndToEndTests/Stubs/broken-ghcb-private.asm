; broken-ghcb-private.asm — a hostile SEV-SNP guest whose GHCB is not in shared memory: it
; registers its GHCB, makes that page private with the MSR protocol, validates it (so it may
; write it), and then sends a well-formed Page State Change through it. A hypervisor cannot
; map a private GHCB: KVM fails the VMGEXIT ("error mapping GHCB") and KVM_RUN with it, so the
; run must stop there, having converted nothing through it and written nothing into it. What
; follows the VMGEXIT is what a host that wrongly went on would let the guest do.
;
; While the GHCB is private the guest cannot report (the runtime's reports go through that
; GHCB on SEV-SNP, runtime/portio.asm): the conversion and the validation are checked in the
; guest, and a failure ends it with exit code SETUP_FAILED before the hostile VMGEXIT.
;
; Records: CHECK ghcbpriv.init (0);
; VALUE ghcbpriv.exitinfo1, ghcbpriv.exitinfo2 (the answer read back from the private GHCB);
; CHECK ghcbpriv.ghcb_to_shared (0x015), ghcbpriv.after.exitinfo2 (0),
; ghcbpriv.after.back.exitinfo2 (0).

%include "enlighten.inc"
%include "interfaces.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
OP_SHARED       equ VMGEXIT_PSC_OP_SHARED << PSC_ENTRY_OP_SHIFT
OP_PRIVATE      equ VMGEXIT_PSC_OP_PRIVATE << PSC_ENTRY_OP_SHIFT
SETUP_FAILED    equ 0x11

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "hostile-area"

global main
extern __enlighten_site_ghcb_vmgexit     ; ghcb.asm's one VMGEXIT (rep vmmcall; ret)

section .bss nobits alloc noexec write align=8
entry:          resq 1

section .text
main:
    call ghcb_init
    CHECK "ghcbpriv.init", rax, 0

    mov edi, ghcb_page
    mov esi, VMGEXIT_PSC_OP_PRIVATE
    call ghcb_msr_psc
    cmp rax, GHCB_MSR_PSC_RESP          ; no CHECK: the GHCB it would report through is private
    jne .setup_failed
    mov edi, ghcb_page
    mov esi, RMP_PG_SIZE_4K
    mov edx, PVALIDATE_VALIDATE
    call snp_pvalidate
    test rax, rax
    jnz .setup_failed

    ; A well-formed PSC (one 4 KiB entry to shared), written into the GHCB through its
    ; private view (the library would write through the shared view, which converts the page
    ; back implicitly), the GHCB MSR pointed at it, and the VMGEXIT.
    mov rdi, ghcb_page
    xor eax, eax
    mov [rdi + GHCB_VALID_BITMAP], rax
    mov [rdi + GHCB_VALID_BITMAP + 8], rax
    mov qword [rdi + GHCB_SW_EXIT_CODE], SVM_VMGEXIT_PSC
    mov [rdi + GHCB_SW_EXIT_INFO_1], rax
    mov [rdi + GHCB_SW_EXIT_INFO_2], rax
    lea rax, [rdi + GHCB_SHARED_BUFFER]
    mov [rdi + GHCB_SW_SCRATCH], rax
    mov byte [rdi + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_ALL
    mov word [rdi + GHCB_PROTOCOL_VERSION_OFFSET], GHCB_PROTOCOL_VERSION
    mov dword [rdi + GHCB_USAGE], 0
    mov qword [rdi + GHCB_SHARED_BUFFER], 0                        ; cur_entry 0, end_entry 0
    mov rax, AREA_START | OP_SHARED
    mov [rdi + GHCB_SHARED_BUFFER + VMGEXIT_PSC_HDR_SIZE], rax
    mov ecx, MSR_AMD64_SEV_ES_GHCB
    mov eax, ghcb_page
    xor edx, edx
    wrmsr
    call __enlighten_site_ghcb_vmgexit
    mov rdi, ghcb_page
    mov rax, [rdi + GHCB_SW_EXIT_INFO_2]
    mov rdx, [rdi + GHCB_SW_EXIT_INFO_1]
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
.setup_failed:
    mov eax, SETUP_FAILED
    ret
