; ghcb.asm — SEV-SNP guest→host requests: the GHCB MSR protocol and the Page State Change
; (PSC) NAE event over the GHCB page. Numbers: docs/abi.md §2 (Linux asm/sev-common.h, asm/svm.h,
; arch/x86/kvm/svm/sev.c; OVMF and coconut-svsm agree).
;
; Every VMGEXIT (`rep vmmcall`, F3 0F 01 D9) goes through one instruction, the request site
; __enlighten_site_ghcb_vmgexit.
;
; MSR protocol
;   ghcb_msr_call(rdi = request) -> rax = response
;       GHCB MSR := request; VMGEXIT; rax := GHCB MSR.
;   ghcb_msr_psc(rdi = gpa, esi = operation) -> rax = raw response
;       single-page PSC: request 0x014 | gfn << 12 (40 bits) | (op & 0xF) << 52;
;       success is exactly 0x015 (error field [63:32] zero).
;   ghcb_init() -> rax = 0, or the response that was wrong (-1 if it was 0)
;       once per vCPU: SEV_INFO (0x002 -> 0x001) with protocol 2 within [min, max], then
;       REG_GPA (0x012 -> 0x013, same GFN) for this vCPU's GHCB. Later calls on the same vCPU
;       return 0 at once. EN_ABI_ERR_NO_INTERFACE when the vCPU has no GHCB (APIC ID >= 16).
;       PSC, raw VMGEXIT and PSC-raw call it themselves and return its error as theirs.
;
; GHCB page protocol. Each vCPU has a GHCB of its own, as the GHCB specification requires
; (the GHCB MSR is per vCPU and the hypervisor keeps one registered GHCB per vCPU): the
; 4 KiB page ghcb_page + n * 4 KiB in section .shared (which the plan starts shared) for the
; vCPU whose initial APIC ID (CPUID.1:EBX[31:24]) is n, n < EN_MAX_VCPUS (this_vcpu). ghcb_page itself is
; vCPU 0's. The PSC buffer is a GHCB's shared_buffer at +0x800, as OVMF and coconut-svsm
; place it. Everything below works on the calling vCPU's GHCB, so vCPUs may convert at once.
;
; The GHCB MSR (0xC0010130) must hold the GHCB's GPA at a page-protocol VMGEXIT, and only the
; guest's writes and the hypervisor's answers to MSR-protocol requests change it (the GHCB
; specification; KVM's sev.c sets it only there and at vCPU reset, before the guest runs,
; while every flag below is still 0). So each vCPU keeps a flag "my GHCB MSR holds my GHCB's
; GPA": set after the WRMSR before a page-protocol VMGEXIT, cleared by ghcb_msr_call before it
; writes a request (ghcb_init and ghcb_msr_psc go through it). While the flag is set the WRMSR
; is skipped, so a page-protocol request costs its VMGEXIT alone (off SNP hardware every WRMSR
; is an exit of its own). A stub that writes the GHCB MSR itself must do it through
; ghcb_msr_call, or the flag would lie.
;
;   ghcb_psc(rdi = entries (u64 PSC entries), rsi = count 1..253) -> rax, rdx
;       header {cur_entry 0, end_entry count-1}, entries copied after it; then VMGEXIT with
;       SW_EXITCODE 0x80000010, SW_EXITINFO1 0, SW_EXITINFO2 0, SW_SCRATCH = GHCB + 0x800
;       (those four marked valid), usage 0, protocol version 2, GHCB MSR = GHCB GPA; repeated
;       while SW_EXITINFO2 == 0 and cur_entry <= end_entry.
;       rax = SW_EXITINFO2 of the last VMGEXIT (0 = all done), EN_ABI_ERR_BAD_ARGUMENT
;       for count > 253 (nothing sent), EN_ABI_ERR_NO_PROGRESS after 16 answers in a
;       row that consumed nothing; count 0 returns 0 with nothing sent.
;       rdx = the PSC header (u64) as the host left it. ghcb_psc_exits = VMGEXITs made
;       (by the last ghcb_psc of any vCPU).
;   ghcb_psc_raw(rdi = header (u64, sent as is), rsi = entries, rdx = entries to copy) -> rax, rdx
;       one VMGEXIT as above with exactly that header; at most 253 entries are copied (the
;       buffer's size). rax = SW_EXITINFO2, rdx = the header afterwards.
;   ghcb_vmgexit_raw(rdi = SW_EXITCODE, rsi = SW_SCRATCH, edx = valid-bitmap byte 0x3FE,
;                    ecx = ghcb_usage) -> rax = SW_EXITINFO2, rdx = SW_EXITINFO1
;       one VMGEXIT with SW_EXITINFO1/2 = 0 and only the given valid bits (bit 2 exit code,
;       3 info1, 4 info2, 5 scratch), for malformed-GHCB tests; the shared buffer is sent as is.
;   ghcb_nae_prepare() -> rax = this vCPU's GHCB (its shared view) with the valid bitmap
;       cleared, usage 0 and protocol version 2, for the caller to fill in any NAE event (fields
;       and valid bits by hand); 0 when the vCPU has no registered GHCB (ghcb_init failed).
;   ghcb_nae_send() -> rax = SW_EXITINFO1, rdx = SW_EXITINFO2
;       one VMGEXIT over the GHCB as the caller left it (GHCB MSR := its GPA first).
; All preserve rbx, rbp, r12-r15 and clobber rcx, rdx, rsi, rdi, r8-r11.
;
;
; GHCBs are shared memory: the library reads and writes them through their shared view
; (en_shared_alias), never through a private (C=1) mapping. Validation (PVALIDATE) is
; snp_pvalidate.asm's; en_convert puts the two halves in Linux's order.

%define EN_ABI_SOURCE
%include "enlighten.inc"
%include "interfaces.inc"

extern en_shared_alias
extern __enlighten_stacks               ; runtime/entry.asm: EN_MAX_VCPUS stacks, vCPU n's n-th

global ghcb_msr_call
global ghcb_msr_psc
global ghcb_init
global ghcb_psc
global ghcb_psc_raw
global ghcb_vmgexit_raw
global ghcb_nae_prepare
global ghcb_nae_send
global ghcb_page
global ghcb_psc_exits
global __enlighten_site_ghcb_vmgexit

GHCB_PSC_GFN_MASK       equ 0x000FFFFFFFFFF000  ; GFN field [51:12], 40 bits
GHCB_PSC_OP_MASK        equ 0xF
PSC_NO_PROGRESS_LIMIT   equ 16
CPUID_FEATURES          equ 1           ; leaf 1: EBX[31:24] = initial APIC ID
APIC_ID_SHIFT           equ 24
CPUID_REG_EBX           equ 1
STACK_SHIFT             equ 14          ; log2(EN_STACK_SIZE)
%if (1 << STACK_SHIFT) != EN_STACK_SIZE
  %error STACK_SHIFT does not match EN_STACK_SIZE
%endif
GHCB_PAGE_SHIFT         equ 12
%if (1 << GHCB_PAGE_SHIFT) != GHCB_PAGE_SIZE
  %error GHCB_PAGE_SHIFT does not match GHCB_PAGE_SIZE
%endif

section .shared nobits alloc noexec write align=4096
ghcb_page:              resb GHCB_PAGE_SIZE * EN_MAX_VCPUS  ; one GHCB per vCPU

section .bss nobits alloc noexec write align=8
ghcb_psc_exits:         resq 1
ghcb_ready:             resb EN_MAX_VCPUS   ; [n] = 1 once vCPU n registered its GHCB
msr_holds_ghcb:         resb EN_MAX_VCPUS   ; [n] = 1 while vCPU n's GHCB MSR holds its GHCB GPA

section .text

; this_vcpu() -> eax = this vCPU's index (its initial APIC ID); CF = 1 when that is
; EN_MAX_VCPUS or more, i.e. the vCPU has no GHCB. Preserves every other register.
; No raw CPUID (a #VC on SNP) and, on the common path, no exit at all: code on one of the
; runtime's stacks is on vCPU n's stack n (runtime/entry.asm; the runner makes vCPU n's
; initial APIC ID n, docs/cpuid.md). Elsewhere it asks the hypervisor for CPUID.1:EBX
; through the GHCB MSR protocol (as Linux snp_cpuid_postprocess takes the APIC ID from the
; hypervisor), by hand: ghcb_msr_call itself needs this_vcpu.
this_vcpu:
    mov eax, __enlighten_stacks         ; RAM below 2 GiB: a 32-bit absolute address
    neg rax
    add rax, rsp                        ; rsp - the stacks' base (huge when below it)
    cmp rax, EN_MAX_VCPUS * EN_STACK_SIZE
    jae .ask
    shr eax, STACK_SHIFT
    clc                                 ; a runtime stack's vCPU has a GHCB
    ret
.ask:
    push rcx
    push rdx
    mov ecx, MSR_AMD64_SEV_ES_GHCB
    mov eax, GHCB_MSR_CPUID_REQ | (CPUID_REG_EBX << GHCB_MSR_CPUID_REG_SHIFT)
    mov edx, CPUID_FEATURES             ; [63:32] the leaf
    wrmsr
    call vmgexit                        ; keeps every register
    rdmsr                               ; edx = CPUID.1:EBX (a CPUID response, [63:32])
    mov eax, edx
    shr eax, APIC_ID_SHIFT
    cmp eax, EN_MAX_VCPUS
    jae .done
    mov byte [abs msr_holds_ghcb + rax], 0  ; the MSR holds the answer now, not the GHCB GPA
.done:
    pop rdx
    pop rcx
    cmp eax, EN_MAX_VCPUS               ; CF = 1: below the limit, so it has a GHCB ...
    cmc                                 ; ... and CF = 1 now means it has none
    ret

; The one VMGEXIT of this file. Every register is the caller's: on SEV-ES/SNP the
; hypervisor cannot change guest registers, only the GHCB MSR and the GHCB page.
vmgexit:
__enlighten_site_ghcb_vmgexit:
    rep vmmcall
    ret

ghcb_msr_call:
    call this_vcpu
    jc .write                           ; no GHCB, so no flag to clear
    mov byte [abs msr_holds_ghcb + rax], 0  ; the MSR is about to hold a request, then an answer
.write:
    mov ecx, MSR_AMD64_SEV_ES_GHCB
    mov eax, edi
    mov rdx, rdi
    shr rdx, 32
    wrmsr
    call vmgexit
    mov ecx, MSR_AMD64_SEV_ES_GHCB
    rdmsr
    shl rdx, 32
    or rax, rdx                         ; rdmsr zero-extends eax
    ret

ghcb_msr_psc:
    mov rax, GHCB_PSC_GFN_MASK
    and rdi, rax
    and esi, GHCB_PSC_OP_MASK
    shl rsi, GHCB_MSR_PSC_OP_SHIFT
    or rdi, rsi
    or rdi, GHCB_MSR_PSC_REQ
    jmp ghcb_msr_call

; ready() -> rax = 0 with r8 = the GPA of this vCPU's GHCB (below 4 GiB), r11 = the address
; of its shared view (en_shared_alias: the GHCB is shared memory, so the guest must not touch
; it through a private, C=1 mapping) and r9 = its index, the GHCB registered; else rax = the
; error (ghcb_init's contract).
; Preserves rdi, rsi, rdx, rcx and the callee-saved registers; clobbers r8-r11.
ghcb_init:
ready:
    call this_vcpu
    jc .no_ghcb
    cmp byte [abs ghcb_ready + rax], 0  ; .bss/.shared are RAM: absolute addressing
    je .register
    mov r9d, eax
    shl eax, GHCB_PAGE_SHIFT
    lea r8d, [rax + ghcb_page]          ; .shared is RAM: a 32-bit absolute address
    push rdi
    mov rdi, r8
    call en_shared_alias                ; preserves every register but rax
    pop rdi
    mov r11, rax
    xor eax, eax
    ret
.register:
    push rdi
    push rsi
    push rdx
    push rcx
    mov edi, eax
    call register
    pop rcx
    pop rdx
    pop rsi
    pop rdi
    test rax, rax
    jz ready                            ; registered: now the fast path (once per vCPU)
    ret
.no_ghcb:
    mov rax, EN_ABI_ERR_NO_INTERFACE
    ret

; register(edi = this vCPU's index) -> rax = 0, or the response that was wrong (-1 if it was 0)
register:
    push rbx
    mov ebx, edi                        ; kept across the calls below
    mov edi, GHCB_MSR_SEV_INFO_REQ
    call ghcb_msr_call
    mov edx, eax
    and edx, GHCB_MSR_INFO_MASK
    cmp edx, GHCB_MSR_SEV_INFO_RESP
    jne .fail
    mov rdx, rax                        ; max protocol version, [63:48]
    shr rdx, GHCB_MSR_PROTO_MAX_SHIFT
    cmp edx, GHCB_PROTOCOL_VERSION
    jb .fail
    mov rdx, rax                        ; min protocol version, [47:32]
    shr rdx, GHCB_MSR_PROTO_MIN_SHIFT
    movzx edx, dx
    cmp edx, GHCB_PROTOCOL_VERSION
    ja .fail

    ; The GHCB must be registered before the first GHCB-page VMGEXIT (KVM refuses an
    ; unregistered one for SNP). Its GPA is page aligned: the GFN is already in [63:12].
    mov edi, ebx
    shl edi, GHCB_PAGE_SHIFT
    add edi, ghcb_page
    mov edx, edi
    or edi, GHCB_MSR_REG_GPA_REQ
    or edx, GHCB_MSR_REG_GPA_RESP
    push rdx
    call ghcb_msr_call
    pop rdx
    cmp rax, rdx
    jne .fail
    mov byte [abs ghcb_ready + rbx], 1
    xor eax, eax
    pop rbx
    ret
.fail:
    test rax, rax                       ; a zero response must not read as success
    jnz .ret
    dec rax
.ret:
    pop rbx
    ret

; send(edi = exit code, rsi = scratch, edx = valid byte, ecx = usage; r8 = this GHCB's GPA,
; r11 = its shared view, r9 = this vCPU's index, from ready) -> rax = SW_EXITINFO2, rdx =
; SW_EXITINFO1. Keeps r8, r9, r11.
send:
    xor eax, eax
    mov [r11 + GHCB_VALID_BITMAP], rax   ; only the fields set below are valid
    mov [r11 + GHCB_VALID_BITMAP + 8], rax
    mov [r11 + GHCB_SW_EXIT_CODE], rdi
    mov [r11 + GHCB_SW_EXIT_INFO_1], rax
    mov [r11 + GHCB_SW_EXIT_INFO_2], rax
    mov [r11 + GHCB_SW_SCRATCH], rsi
    mov [r11 + GHCB_VALID_SW_BYTE], dl
    mov word [r11 + GHCB_PROTOCOL_VERSION_OFFSET], GHCB_PROTOCOL_VERSION
    mov [r11 + GHCB_USAGE], ecx
exit_ghcb:
    cmp byte [abs msr_holds_ghcb + r9], 0
    jne .vmgexit                        ; the MSR still holds this GHCB's GPA: no WRMSR
    mov ecx, MSR_AMD64_SEV_ES_GHCB      ; GHCB MSR = the GHCB's GPA (below 4 GiB: edx = 0)
    mov eax, r8d
    xor edx, edx
    wrmsr
    mov byte [abs msr_holds_ghcb + r9], 1
.vmgexit:
    call vmgexit
    mov rax, [r11 + GHCB_SW_EXIT_INFO_2]
    mov rdx, [r11 + GHCB_SW_EXIT_INFO_1]
    ret

ghcb_nae_prepare:
    call ready
    test rax, rax
    jnz .none
    mov [r11 + GHCB_VALID_BITMAP], rax   ; rax = 0
    mov [r11 + GHCB_VALID_BITMAP + 8], rax
    mov [r11 + GHCB_USAGE], eax
    mov word [r11 + GHCB_PROTOCOL_VERSION_OFFSET], GHCB_PROTOCOL_VERSION
    mov rax, r11
    ret
.none:
    xor eax, eax
    ret

ghcb_nae_send:
    call ready
    test rax, rax
    jnz .out
    call exit_ghcb                      ; rax = SW_EXITINFO2, rdx = SW_EXITINFO1
    xchg rax, rdx
.out:
    ret

ghcb_vmgexit_raw:
    call ready                          ; keeps the arguments
    test rax, rax
    jz send
    ret

; One PSC VMGEXIT over this vCPU's shared buffer (r8, r9, r11 from ready) -> rax =
; SW_EXITINFO2, rdx = the header afterwards. Keeps r8, r9, r11.
send_psc:
    mov edi, SVM_VMGEXIT_PSC
    lea esi, [r8 + GHCB_SHARED_BUFFER]
    mov edx, GHCB_VALID_SW_ALL
    xor ecx, ecx
    call send
    mov rdx, [r11 + GHCB_SHARED_BUFFER]
    ret

; Copies the header (rax) and rcx entries from rsi into this GHCB's shared buffer (r11).
put_request:
    mov [r11 + GHCB_SHARED_BUFFER], rax
    lea rdi, [r11 + GHCB_SHARED_BUFFER + VMGEXIT_PSC_HDR_SIZE]
    rep movsq                           ; DF = 0 (System V)
    ret

ghcb_psc_raw:
    call ready                          ; keeps the arguments
    test rax, rax
    jnz .out
    mov rax, rdi                        ; the header, as given
    mov ecx, VMGEXIT_PSC_MAX_COUNT      ; the buffer holds no more
    cmp rdx, rcx
    cmovb rcx, rdx
    call put_request
    jmp send_psc
.out:
    ret

ghcb_psc:
    mov qword [abs ghcb_psc_exits], 0
    xor eax, eax
    xor edx, edx
    test rsi, rsi
    jz .ret
    mov rax, EN_ABI_ERR_BAD_ARGUMENT
    cmp rsi, VMGEXIT_PSC_MAX_COUNT
    ja .ret
    call ready                          ; keeps the arguments
    test rax, rax
    jnz .ret                            ; rdx = 0
    lea rax, [rsi - 1]                  ; cur_entry 0, end_entry = count - 1 (inclusive)
    shl rax, VMGEXIT_PSC_HDR_END_SHIFT
    mov rcx, rsi
    mov rsi, rdi
    call put_request

    push rbx
    push r12
    xor ebx, ebx                        ; answers in a row that consumed nothing
    xor r12d, r12d                      ; cur_entry before the first call: 0, as written
.again:
    call send_psc
    inc qword [abs ghcb_psc_exits]
    test rax, rax
    jnz .out                            ; an error: report it as the host gave it
    movzx ecx, dx                       ; cur_entry
    mov r10, rdx
    shr r10, VMGEXIT_PSC_HDR_END_SHIFT
    movzx r10d, r10w                    ; end_entry
    cmp ecx, r10d
    ja .out                             ; every entry consumed: rax = 0
    cmp ecx, r12d
    je .stalled
    mov r12d, ecx                       ; progress: the next call starts from here
    xor ebx, ebx
    jmp .again
.stalled:
    inc ebx
    cmp ebx, PSC_NO_PROGRESS_LIMIT
    jb .again
    mov rax, EN_ABI_ERR_NO_PROGRESS
.out:
    pop r12
    pop rbx
.ret:
    ret
