; raw-cpuid-caught.asm — a raw CPUID meets what SEV-SNP and TDX hardware give it: run with
; --catch-cpuid (RunOptions.catchRawCPUID), since KVM otherwise answers CPUID itself.
;
; The stub installs its own #VC and #VE hooks (en_exception_hooks), which count each exception,
; keep its code and the leaf in EAX, and resume after the CPUID without emulating it; then it
; executes CPUID leaf 0 and leaf 0x40000000. Then it installs the library's forwarding handler
; (en_forward_intercepts: abi/vc_forward.asm, ve_forward.asm) instead and executes both again:
; each CPUID the platform intercepts is forwarded (GHCB CPUID NAE event; TDVMCALL
; <Instruction.CPUID> for the hypervisor range) and gives what en_cpuid_reg reads through the
; platform's own request, EBX of leaf 0x40000000 "KVMK".
;
; Expected values:
;   SNP  both CPUIDs raise #VC with error code 0x72 (SVM_EXIT_CPUID): an SEV-ES/SNP guest's
;        CPUID is always intercepted (AMD APM vol. 2 §15.35.5; Linux arch/x86/coco/sev/
;        vc-handle.c vc_handle_cpuid is the handler for it). count 2, code 0x72, last leaf
;        0x40000000.
;   TDX  leaf 0 is answered by the TDX module (it is in the module's CPUID table: tdx-module
;        td_vmexit.c td_cpuid_exit), leaf 0x40000000 is not (the hypervisor range
;        CPUID_RESERVED_START..END has no entry): #VE with TDG.VP.VEINFO.GET exit reason 10
;        (EXIT_REASON_CPUID) and instruction length 2 (0F A2; Linux handle_cpuid advances by
;        it). count 1, code 10, length 2, leaf 0x40000000.
;
; Records: CHECK caught.count, caught.code, caught.leaf, and on TDX caught.length;
; fwd.cpuid_hv.ebx, fwd.cpuid_0.eax.

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

VECTOR_VE           equ 20
VECTOR_VC           equ 29
HOOK_SIZE           equ 8
CPUID_LENGTH        equ 2               ; 0F A2, no prefix
LEAF_BASIC          equ 0
LEAF_HYPERVISOR     equ 0x40000000
SVM_EXIT_CPUID_CODE equ SVM_EXIT_CPUID
EXIT_REASON_CPUID   equ TDVMCALL_CPUID  ; the TDVMCALL sub-function is the exit reason
CPUID_REG_EAX       equ 0
KVM_SIGNATURE_EBX   equ 'KVMK'

section .bss nobits alloc noexec write align=8
caught_count:       resq 1
caught_code:        resq 1
caught_leaf:        resq 1
caught_length:      resq 1

section .text

; hook(rdi = vector, rsi = error code, rdx = &interrupted RIP) -> rax = 1: resume after it.
count_hook:
    inc qword [abs caught_count]
    mov eax, [rdx + EN_HOOK_RAX]
    mov [abs caught_leaf], rax
    cmp edi, VECTOR_VE
    je .ve
    mov [abs caught_code], rsi
    mov eax, CPUID_LENGTH               ; SNP gives no length: the stub knows its encoding
    jmp .resume
.ve:
    push rdx
    call tdx_veinfo_get                 ; rcx = exit reason, r10 = instruction length
    pop rdx
    mov [abs caught_code], rcx
    mov eax, r10d
    mov [abs caught_length], rax
.resume:
    add [rdx + EN_HOOK_RIP], rax
    mov eax, 1
    ret

scenario:
    lea rax, [rel count_hook]
    mov [abs en_exception_hooks + VECTOR_VC * HOOK_SIZE], rax
    mov [abs en_exception_hooks + VECTOR_VE * HOOK_SIZE], rax
    mov eax, LEAF_BASIC
    xor ecx, ecx
    cpuid
    mov eax, LEAF_HYPERVISOR
    xor ecx, ecx
    cpuid
    call en_platform
    cmp eax, EN_PLATFORM_TDX
    je .tdx
    EXPECT "caught.count", qword [abs caught_count], 2
    EXPECT "caught.code", qword [abs caught_code], SVM_EXIT_CPUID_CODE
    EXPECT "caught.leaf", qword [abs caught_leaf], LEAF_HYPERVISOR
    jmp forwarded
.tdx:
    EXPECT "caught.count", qword [abs caught_count], 1
    EXPECT "caught.code", qword [abs caught_code], EXIT_REASON_CPUID
    EXPECT "caught.length", qword [abs caught_length], CPUID_LENGTH
    EXPECT "caught.leaf", qword [abs caught_leaf], LEAF_HYPERVISOR
forwarded:
    call en_forward_intercepts
    mov eax, LEAF_HYPERVISOR
    xor ecx, ecx
    cpuid                               ; rbx: the scenario's to clobber
    EXPECT "fwd.cpuid_hv.ebx", rbx, KVM_SIGNATURE_EBX
    mov eax, LEAF_BASIC
    xor ecx, ecx
    cpuid
    mov r12d, eax
    mov edi, LEAF_BASIC
    xor esi, esi
    mov edx, CPUID_REG_EAX
    call en_cpuid_reg
    EXPECT "fwd.cpuid_0.eax", r12, rax
    ret
