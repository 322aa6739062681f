; msr-intercepts.asm — raw RDMSR/WRMSR as SEV-SNP and TDX hardware take them, and the MSR
; requests a #VC/#VE handler forwards for them (ghcb and tdx only).
;
; Expected values (docs/abi.md §2.8 and §3.7; docs/platform-model.md "MSRs"):
;   1. RDMSR of IA32_APIC_BASE (0x1B), EDX:EAX preloaded: not executed. SNP: #VC with error
;      code 0x7C (SVM_EXIT_MSR): KVM intercepts every MSR of an SEV-ES/SNP guest but the ones
;      the hardware switches (svm.c svm_vcpu_init_msrpm, sev.c sev_es_recalc_msr_intercepts).
;      TDX: #VE, TDG.VP.VEINFO.GET exit reason 31 (EXIT_REASON_MSR_READ), qualification 0,
;      instruction length 2: 0x1B is not in the TDX module's MSR table (msr_config_lookup.c),
;      and td_msr_access.c turns such an access into a #VE. The exception's RIP is the
;      RDMSR's, and EAX/EDX still hold the preloaded values.
;   2. WRMSR of IA32_APIC_BASE: the same, with error code 0x7C / exit reason 32.
;   2b. RDMSR of IA32_PMC0 (0xC1): TDX #GP(0), from the module itself: its table has the
;      performance counters fault in a TD without ATTRIBUTES.PERFMON (msr_config_lookup.c,
;      MSR_ACTION_GP), so no VE info; SNP #VC 0x7C as in 1. Not executed either way.
;   3. RDMSR of EFER (0xC0000080): runs (SNP: hardware-switched, sev.c clears its intercept;
;      TDX: a native read in the module's table), LMA (bit 10) set in long mode; no exception.
;   4. The forwarded RDMSR of IA32_APIC_BASE: KVM's value, 0xFEE00900 — the architectural
;      reset value of the BSP's (base 0xFEE00000, BSP bit 8, enable bit 11: Intel SDM vol. 3
;      §11.4.4; AMD APM vol. 2 §16.3.1), which KVM gives every vCPU at reset (lapic.c
;      kvm_lapic_reset). SNP: GHCB MSR event, SW_EXITINFO1 0, RDX:RAX (sev.c →
;      kvm_emulate_rdmsr). TDX: TDVMCALL RDMSR, R10 0, R11 (tdx.c tdx_has_emulated_msr lists
;      MSR_IA32_APICBASE).
;   5. TDX only: TDVMCALL WRMSR of IA32_APIC_BASE is INVALID_OPERAND (tdx_is_read_only_msr),
;      and TDVMCALL RDMSR of IA32_TIME_STAMP_COUNTER (0x10), which KVM emulates for a VM but
;      not for a TD (not in tdx_has_emulated_msr), too. SNP: the GHCB MSR event reading 0x10
;      succeeds (SW_EXITINFO1 0: svm_get_msr serves it).
;   6. A forwarded MSR nobody emulates (0x40001234): SNP the #GP answer (SW_EXITINFO1 1,
;      SW_EXITINFO2 0x8000030D, svm.c svm_complete_emulated_msr), TDX INVALID_OPERAND
;      (tdx_complete_emulated_msr).
;
; Records: VALUE msr.platform; CHECK msr.rdmsr.vector, msr.rdmsr.code (SNP: the error code;
; TDX: the VE exit reason), msr.rdmsr.rip, msr.rdmsr.eax, msr.rdmsr.edx, msr.rdmsr.count,
; msr.wrmsr.vector, msr.wrmsr.code, msr.wrmsr.rip, msr.wrmsr.count, msr.pmc.vector,
; msr.pmc.code, msr.pmc.rip, msr.pmc.count, msr.efer.lma,
; msr.efer.count, msr.forward_apic_base.status, msr.forward_apic_base.value,
; msr.forward_tsc.status, msr.forward_unknown.status; TDX: msr.rdmsr.qualification,
; msr.rdmsr.length, msr.wrmsr.qualification, msr.wrmsr.length, msr.forward_apic_base_write.status.

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

MSR_APIC_BASE   equ 0x1B
MSR_TSC         equ 0x10
MSR_PMC0        equ 0xC1
MSR_EFER        equ 0xC0000080
UNKNOWN_MSR     equ 0x4000_1234         ; in KVM's hypervisor range, but no MSR of KVM's
EFER_LMA        equ 1 << 10
APIC_BASE_BSP_RESET equ 0xFEE00900      ; base 0xFEE00000 | enable (11) | BSP (8)
EAX_BEFORE      equ 0x1357_9BDF
EDX_BEFORE      equ 0x2468_ACE0
GP_VECTOR       equ 13
VE_VECTOR       equ 20
VC_VECTOR       equ 29
EXIT_REASON_MSR_READ  equ 31            ; asm/vmx.h
EXIT_REASON_MSR_WRITE equ 32
MSR_INSTRUCTION_LENGTH equ 2            ; 0F 32 / 0F 30

section .bss nobits alloc noexec write align=8
taken_count:    resq 1
taken_vector:   resq 1
taken_code:     resq 1                  ; #VC error code / #VE exit reason
taken_rip:      resq 1
taken_qualification: resq 1
taken_length:   resq 1
platform:       resq 1

section .text

; hook(rdi = vector, rsi = error code, rdx = &RIP) -> rax = 1: records the exception and
; resumes after the 2-byte instruction, as a handler that emulated it would.
msr_hook:
    inc qword [abs taken_count]
    mov [abs taken_vector], rdi
    mov [abs taken_code], rsi
    mov rax, [rdx]
    mov [abs taken_rip], rax
    add qword [rdx], MSR_INSTRUCTION_LENGTH   ; before TDG.VP.VEINFO.GET takes rdx
    cmp edi, VE_VECTOR
    jne .resume
    call tdx_veinfo_get                 ; rcx = exit reason, rdx = qualification, r10 = length
    mov [abs taken_code], rcx
    mov [abs taken_qualification], rdx
    mov [abs taken_length], r10
.resume:
    mov eax, 1
    ret

; forward_read(edi = MSR) -> rax = status (SNP: SW_EXITINFO1; TDX: R10), rdx = the value.
forward_read:
    cmp qword [abs platform], EN_PLATFORM_TDX
    je .tdx
    push rbx
    push rdi
    call ghcb_nae_prepare
    pop rdi
    mov rbx, rax
    mov qword [rbx + GHCB_SW_EXIT_CODE], SVM_EXIT_MSR
    mov qword [rbx + GHCB_SW_EXIT_INFO_1], 0          ; 0: read
    mov qword [rbx + GHCB_SW_EXIT_INFO_2], 0
    mov [rbx + GHCB_RCX], rdi
    or byte [rbx + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_EXIT_CODE | GHCB_VALID_SW_EXIT_INFO_1 | GHCB_VALID_SW_EXIT_INFO_2
    or byte [rbx + GHCB_VALID_RCX_BYTE], GHCB_VALID_RCX
    call ghcb_nae_send
    mov edx, [rbx + GHCB_RDX]
    shl rdx, 32
    mov ecx, [rbx + GHCB_RAX]
    or rdx, rcx
    pop rbx
    ret
.tdx:
    mov esi, edi
    mov edi, TDVMCALL_RDMSR
    xor edx, edx
    xor ecx, ecx
    xor r8d, r8d
    jmp tdx_vmcall

; EXPECT_TAKEN "prefix", SNP error code, TDX exit reason, label — after a raw access the
; platform intercepts: the hook saw it once, with the platform's vector and code, at label.
%macro EXPECT_TAKEN 4
    %strcat %%count %1, ".count"
    %strcat %%vector %1, ".vector"
    %strcat %%code %1, ".code"
    %strcat %%qualification %1, ".qualification"
    %strcat %%length %1, ".length"
    %strcat %%rip_name %1, ".rip"
    EXPECT %%count, qword [abs taken_count], 1
    cmp qword [abs platform], EN_PLATFORM_TDX
    je %%tdx
    EXPECT %%vector, qword [abs taken_vector], VC_VECTOR
    EXPECT %%code, qword [abs taken_code], %2
    jmp %%rip
%%tdx:
    EXPECT %%vector, qword [abs taken_vector], VE_VECTOR
    EXPECT %%code, qword [abs taken_code], %3
    EXPECT %%qualification, qword [abs taken_qualification], 0
    EXPECT %%length, qword [abs taken_length], MSR_INSTRUCTION_LENGTH
%%rip:
    lea rax, [rel %4]
    EXPECT %%rip_name, qword [abs taken_rip], rax
    mov qword [abs taken_count], 0
%endmacro

scenario:
    call en_platform
    mov [abs platform], rax
    VALUE "msr.platform", rax
    cmp qword [abs platform], EN_PLATFORM_TDX
    je .hooks
    REQUIRE_GHCB
.hooks:
    lea rax, [rel msr_hook]
    mov [abs en_exception_hooks + VE_VECTOR * 8], rax
    mov [abs en_exception_hooks + VC_VECTOR * 8], rax
    mov [abs en_exception_hooks + GP_VECTOR * 8], rax

    ; 1. A raw RDMSR the platform intercepts: not executed, EDX:EAX untouched.
    mov ecx, MSR_APIC_BASE
    mov eax, EAX_BEFORE
    mov edx, EDX_BEFORE
raw_rdmsr:
    rdmsr
    mov r12d, eax
    mov r13d, edx
    EXPECT "msr.rdmsr.eax", r12, EAX_BEFORE
    EXPECT "msr.rdmsr.edx", r13, EDX_BEFORE
    EXPECT_TAKEN "msr.rdmsr", SVM_EXIT_MSR, EXIT_REASON_MSR_READ, raw_rdmsr

    ; 2. A raw WRMSR the platform intercepts (of the reset value, were it to run).
    mov ecx, MSR_APIC_BASE
    mov eax, APIC_BASE_BSP_RESET
    xor edx, edx
raw_wrmsr:
    wrmsr
    EXPECT_TAKEN "msr.wrmsr", SVM_EXIT_MSR, EXIT_REASON_MSR_WRITE, raw_wrmsr

    ; 2b. A raw RDMSR the TDX module answers with #GP(0) itself (SNP: #VC as above).
    mov ecx, MSR_PMC0
raw_pmc:
    rdmsr
    EXPECT "msr.pmc.count", qword [abs taken_count], 1
    cmp qword [abs platform], EN_PLATFORM_TDX
    je .pmc_tdx
    EXPECT "msr.pmc.vector", qword [abs taken_vector], VC_VECTOR
    EXPECT "msr.pmc.code", qword [abs taken_code], SVM_EXIT_MSR
    jmp .pmc_rip
.pmc_tdx:
    EXPECT "msr.pmc.vector", qword [abs taken_vector], GP_VECTOR
    EXPECT "msr.pmc.code", qword [abs taken_code], 0
.pmc_rip:
    lea rax, [rel raw_pmc]
    EXPECT "msr.pmc.rip", qword [abs taken_rip], rax
    mov qword [abs taken_count], 0

    ; 3. A raw RDMSR the platform lets run.
    mov ecx, MSR_EFER
    rdmsr
    and eax, EFER_LMA
    EXPECT "msr.efer.lma", rax, EFER_LMA
    EXPECT "msr.efer.count", qword [abs taken_count], 0

    ; 4. The forwarded read of IA32_APIC_BASE: KVM's value.
    mov edi, MSR_APIC_BASE
    call forward_read
    mov r12, rdx
    EXPECT "msr.forward_apic_base.status", rax, 0
    mov eax, APIC_BASE_BSP_RESET
    EXPECT "msr.forward_apic_base.value", r12, rax

    ; 5. IA32_TSC: KVM serves it for SNP, not for a TD; APIC_BASE is read-only for a TD.
    mov edi, MSR_TSC
    call forward_read
    mov r12, TDVMCALL_STATUS_INVALID_OPERAND
    cmp qword [abs platform], EN_PLATFORM_TDX
    je .tdx_tsc
    xor r12d, r12d
.tdx_tsc:
    EXPECT "msr.forward_tsc.status", rax, r12
    cmp qword [abs platform], EN_PLATFORM_TDX
    jne .unknown
    mov edi, TDVMCALL_WRMSR
    mov esi, MSR_APIC_BASE
    mov edx, APIC_BASE_BSP_RESET
    xor ecx, ecx
    xor r8d, r8d
    call tdx_vmcall
    mov r12, TDVMCALL_STATUS_INVALID_OPERAND
    EXPECT "msr.forward_apic_base_write.status", rax, r12

.unknown:
    ; 6. An MSR nobody emulates: the platform's refusal.
    mov edi, UNKNOWN_MSR
    call forward_read
    mov r12, TDVMCALL_STATUS_INVALID_OPERAND
    cmp qword [abs platform], EN_PLATFORM_TDX
    je .tdx_unknown
    mov r12d, GHCB_HV_RESP_ISSUE_EXCEPTION
.tdx_unknown:
    EXPECT "msr.forward_unknown.status", rax, r12
    ret
