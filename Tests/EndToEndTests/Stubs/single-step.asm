; single-step.asm — a guest that single-steps with RFLAGS.TF and counts the #DBs its own
; handler takes: each must be a single-step trap (DR6.BS, no B0-B3) taken after its
; instruction, and the guest must run on after every one.
;
; First six plain instructions; then the host's half of a conversion, whose request
; instruction (vmcall/vmmcall, VMGEXIT or TDCALL) the runner serves and skips: its trap must
; follow it too, as one follows every instruction KVM skips itself.
;
; The first conversion links the request sites, so the runner arms its hardware breakpoints
; (KVM_SET_GUEST_DEBUG): from then on KVM reports the guest's #DBs to the runner wherever the
; CPU runs guest code, and the runner must hand them back. Run it on each platform with the
; trap transport.
%include "enlighten.inc"
%include "interfaces.inc"

AREA_GPA        equ 0x400000
DB_VECTOR       equ 1
RFLAGS_TF       equ 1 << 8
DR6_BS          equ 1 << 14               ; single step (Intel SDM vol. 3 §17.2.3)
DR6_B0_B3       equ 0xF
DR6_INIT        equ 0xFFFF0FF0            ; DR6 after reset: software clears it, never the CPU
STEPS           equ 6

PLAN_RANGE AREA_GPA, AREA_GPA + EN_PAGE_SIZE, PLAN_ZERO, PLAN_PRIVATE, "step-area"

global main

extern __enlighten_site_kvm_vmcall
extern __enlighten_site_kvm_vmmcall
extern __enlighten_site_ghcb_vmgexit
extern __enlighten_site_tdx_tdcall

section .rodata
; Where a request instruction ends: vmcall/vmmcall are 3 bytes, VMGEXIT and TDCALL 4.
after_sites:
    dq __enlighten_site_kvm_vmcall + 3, __enlighten_site_kvm_vmmcall + 3
    dq __enlighten_site_ghcb_vmgexit + 4, __enlighten_site_tdx_tdcall + 4
AFTER_SITES     equ ($ - after_sites) / 8

section .bss
db_count:       resq 1
db_not_step:    resq 1                    ; #DBs whose DR6 did not say "single step" alone
db_last_rip:    resq 1
db_after_site:  resq 1                    ; #DBs right after a request instruction

section .text
; hook(rdi = vector, rsi = error code, rdx = &RIP) -> rax = 1 to resume (idt.asm).
db_handler:
    inc qword [abs db_count]
    mov rax, [rdx]
    mov [abs db_last_rip], rax
    lea rcx, [rel after_sites]
    mov edx, AFTER_SITES
.site:
    cmp rax, [rcx]
    je .after_site
    add rcx, 8
    dec edx
    jnz .site
    jmp .dr6
.after_site:
    inc qword [abs db_after_site]
.dr6:
    mov rax, dr6
    and eax, DR6_BS | DR6_B0_B3
    cmp eax, DR6_BS
    je .step
    inc qword [abs db_not_step]
.step:
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

    ; TF set by POPF takes effect after the instruction that follows it; the POPF that clears
    ; it still traps, TF having been set when it began (Intel SDM vol. 3 §17.3.1.4).
    pushfq
    or qword [rsp], RFLAGS_TF
    popfq
    nop                                   ; #DB 1
    nop                                   ; #DB 2
    nop                                   ; #DB 3
    pushfq                                ; #DB 4
    and qword [rsp], ~RFLAGS_TF           ; #DB 5
    popfq                                 ; #DB 6
stepped:
    CHECK "db_count", [abs db_count], STEPS
    lea rcx, [rel stepped]
    CHECK "last_db_rip", [abs db_last_rip], rcx

    ; The host's half of going private again, single-stepped: one request instruction.
    pushfq
    or qword [rsp], RFLAGS_TF
    popfq
    mov edi, AREA_GPA
    mov esi, EN_PAGE_SIZE
    mov edx, EN_TO_PRIVATE
    call en_request_conversion
    pushfq
    and qword [rsp], ~RFLAGS_TF
    popfq                                 ; keeps rax
    CHECK "to_private", rax, 0
    CHECK "db_after_request", [abs db_after_site], 1
    CHECK "db_not_single_step", [abs db_not_step], 0
    VALUE "db_count", [abs db_count]
    mov edi, AREA_GPA                     ; the guest half (SNP validate, TDX accept)
    mov esi, EN_PAGE_SIZE
    call en_accept
    CHECK "accepted", rax, 0
    xor eax, eax
    ret
