; mmio-intercept.asm — raw MMIO as SEV-SNP and TDX hardware under KVM answer it: a load and a
; store through the shared view of a GPA that no RAM backs are not executed but raise the
; platform's exception at the instruction, which a guest's handler would forward (GHCB MMIO
; NAE event, TDVMCALL #VE.RequestMMIO; Linux arch/x86/coco/sev/vc-handle.c vc_handle_mmio,
; arch/x86/coco/tdx/tdx.c handle_mmio). This stub's handler records the exception and skips
; the instruction; docs/scenarios.md derives the expectations:
;
;   SEV-SNP (C=0 access): #VC (vector 29) with error code 0x400, SVM_EXIT_NPF — KVM's MMIO
;     SPTE has reserved bits set, and the nested page fault of an SEV-ES guest with the
;     reserved-bit error is reflected to it as #VC (Linux arch/x86/kvm/svm/sev.c
;     sev_hardware_setup: SEV-ES requires MMIO caching; AMD APM vol. 2 §15.35).
;   TDX (shared bit set): #VE (vector 20) whose TDG.VP.VEINFO.GET gives exit reason 48 (EPT
;     violation), the qualification's read (bit 0) or write (bit 1) bit, the GLA the
;     instruction used and the GPA with the shared bit — KVM's MMIO SPTE in the shared EPT
;     leaves suppress-#VE clear (Linux arch/x86/kvm/vmx/tdx.c tdx_vm_init).
;   Both: RIP at the instruction (the handler sees the label), the load's destination and
;     the registers unchanged.
;
; Records: CHECK mmio.read.faults (1), mmio.read.at_instruction (1), mmio.read.untouched (1),
; mmio.write.faults (2), mmio.write.at_instruction (1); on SNP mmio.read.vc_error and
; mmio.write.vc_error (0x400); on TDX mmio.read.ve.exit_reason / mmio.write.ve.exit_reason
; (48), mmio.read.ve.access (1) / mmio.write.ve.access (2), mmio.read.ve.gpa /
; mmio.write.ve.gpa (the GPA | shared bit), mmio.read.ve.gla / mmio.write.ve.gla (the
; linear address used).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

UNBACKED_GPA    equ 0x80000000          ; 2 GiB: mapped by the runtime's tables, no RAM behind it
SENTINEL        equ 0x5E47_1AE1_5E47_1AE1
VC_VECTOR       equ 29
VE_VECTOR       equ 20
SVM_EXIT_NPF    equ 0x400               ; Linux uapi asm/svm.h
EXIT_REASON_EPT_VIOLATION equ 48        ; Linux uapi asm/vmx.h
EPT_ACCESS_MASK equ 0b11                ; qualification bits 0 (read) and 1 (write)
EPT_READ        equ 0b01
EPT_WRITE       equ 0b10

section .bss nobits alloc noexec write align=8
fault_count:            resq 1
fault_error:            resq 1
fault_rip:              resq 1
resume_at:              resq 1
ve_exit_reason:         resq 1
ve_qualification:       resq 1
ve_gla:                 resq 1
ve_gpa:                 resq 1

section .text
; hook(rdi = vector, rsi = error code, rdx = &RIP) -> rax = 1: records the exception (and on
; TDX the VE information) and resumes at resume_at.
mmio_fault:
    inc qword [abs fault_count]
    mov [abs fault_error], rsi
    mov rax, [rdx]
    mov [abs fault_rip], rax
    mov rax, [abs resume_at]
    mov [rdx], rax
    cmp edi, VE_VECTOR
    jne .resume
    call tdx_veinfo_get                 ; rcx exit reason, rdx qualification, r8 GLA, r9 GPA
    mov [abs ve_exit_reason], rcx
    mov [abs ve_qualification], rdx
    mov [abs ve_gla], r8
    mov [abs ve_gpa], r9
.resume:
    mov eax, 1
    ret

; PLATFORM_CHECKS "prefix", access bits — the platform's own part of the last fault: the #VC
; error code on SNP; on TDX the VE information (exit reason, access bits, GPA, GLA = r12).
%macro PLATFORM_CHECKS 2
    call en_platform
    cmp eax, EN_PLATFORM_TDX
    je %%tdx
    %strcat CHECK_NAME %1, ".vc_error"
    EXPECT CHECK_NAME, [abs fault_error], SVM_EXIT_NPF
    jmp %%done
%%tdx:
    %strcat CHECK_NAME %1, ".ve.exit_reason"
    EXPECT CHECK_NAME, [abs ve_exit_reason], EXIT_REASON_EPT_VIOLATION
    mov rax, [abs ve_qualification]
    and eax, EPT_ACCESS_MASK
    %strcat CHECK_NAME %1, ".ve.access"
    EXPECT CHECK_NAME, rax, %2
    call tdx_shared_bit
    mov ecx, UNBACKED_GPA               ; zero-extended (an imm32 operand would sign-extend)
    or rax, rcx
    %strcat CHECK_NAME %1, ".ve.gpa"
    EXPECT CHECK_NAME, [abs ve_gpa], rax
    %strcat CHECK_NAME %1, ".ve.gla"
    EXPECT CHECK_NAME, [abs ve_gla], r12
%%done:
%endmacro

scenario:
    lea rax, [rel mmio_fault]
    mov [abs en_exception_hooks + VC_VECTOR * 8], rax
    mov [abs en_exception_hooks + VE_VECTOR * 8], rax
    mov edi, UNBACKED_GPA
    call en_shared_alias                ; the shared view: C=0 on SNP, the alias on TDX
    mov r12, rax

    ; A load: not executed, its destination keeps the sentinel.
    lea rax, [rel after_read]
    mov [abs resume_at], rax
    mov r13, SENTINEL
raw_read:
    mov r13, [r12]
after_read:
    EXPECT "mmio.read.faults", [abs fault_count], 1
    lea rax, [rel raw_read]
    cmp [abs fault_rip], rax
    sete al
    movzx eax, al
    EXPECT "mmio.read.at_instruction", rax, 1
    mov rax, SENTINEL
    cmp r13, rax
    sete al
    movzx eax, al
    EXPECT "mmio.read.untouched", rax, 1
    PLATFORM_CHECKS "mmio.read", EPT_READ

    ; A store: not executed, taken at the store (not after it).
    lea rax, [rel after_write]
    mov [abs resume_at], rax
raw_write:
    mov [r12], r13
after_write:
    EXPECT "mmio.write.faults", [abs fault_count], 2
    lea rax, [rel raw_write]
    cmp [abs fault_rip], rax
    sete al
    movzx eax, al
    EXPECT "mmio.write.at_instruction", rax, 1
    PLATFORM_CHECKS "mmio.write", EPT_WRITE
    ret
