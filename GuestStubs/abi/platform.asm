; platform.asm — which conversion interface this guest must speak, found as real guests find it.
;
; en_platform() -> eax = EN_PLATFORM_TDX (3), EN_PLATFORM_SNP (2), EN_PLATFORM_KVM (1) or
;                        EN_PLATFORM_NONE (0); upper half of rax zero. Preserves every register
;                        but rax (cpuid clobbers rbx/rcx/rdx: saved). The first call probes,
;                        later calls return the cached answer.
;
; Probe order, most specific first (a TD or an SNP guest may also see a KVM signature):
;   TDX  CPUID.0.EAX >= 0x21 and CPUID.(0x21,0) = "IntelTDX    " in EBX, EDX, ECX
;        (Linux tdx_early_init reads sig[0] = EBX, sig[1] = EDX, sig[2] = ECX).
;   SNP  CPUID.0x80000000.EAX >= 0x8000001F, CPUID.0x8000001F.EAX bit 1 (SEV), then
;        SEV_STATUS MSR 0xC0010131 bit 2 (MSR_AMD64_SEV_SNP_ENABLED_BIT). The MSR is only read
;        once CPUID says SEV, as Linux sme_enable does: elsewhere it would #GP.
;   KVM  CPUID.0x40000000 = "KVMKVMKVM\0\0\0" in EBX, ECX, EDX and CPUID.0x40000001.EAX bit 16
;        (KVM_FEATURE_HC_MAP_GPA_RANGE). Like Linux kvm_cpuid_base, only the signature is
;        required of leaf 0x40000000.
;
; en_shared_alias(rdi = gpa) -> rax = the virtual address where this guest sees gpa's shared
;   view: on TDX 0xFFFF800000000000 + gpa (the runtime maps that to gpa | 1 << 47, which is
;   the shared bit for GPAW 48); on SEV-SNP the same alias when this guest's page tables map
;   RAM private (CR3 carries the C-bit, CPUID 0x8000001F EBX[5:0]: the VMM handed them over
;   with C=1 on the identity view and C=0 on the alias), else gpa itself; on any other
;   platform gpa itself (one GPA space serves both states). Preserves every register but rax.

%define EN_ABI_SOURCE
%include "enlighten.inc"
%include "interfaces.inc"

global en_platform
global en_shared_alias

CPUID_MAX_BASIC         equ 0
CPUID_TDX_LEAF          equ 0x21
CPUID_MAX_EXTENDED      equ 0x80000000
CPUID_SEV_LEAF          equ 0x8000001F
CPUID_SEV_EAX_SEV       equ 1 << 1      ; AMD_SEV_BIT
CPUID_SEV_EBX_CBIT_MASK equ 0x3F        ; EBX[5:0]: the C-bit's position (Linux sme_enable)
CPUID_KVM_SIGNATURE     equ 0x40000000
CPUID_KVM_FEATURES      equ 0x40000001
KVM_FEATURE_HC_MAP_GPA_RANGE equ 16

; Signatures as the dwords CPUID returns (nasm packs 'abcd' little-endian, like memcmp sees it).
TDX_SIG_EBX             equ 'Inte'
TDX_SIG_EDX             equ 'lTDX'
TDX_SIG_ECX             equ '    '
KVM_SIG_EBX             equ 'KVMK'
KVM_SIG_ECX             equ 'VMKV'
KVM_SIG_EDX             equ 'M'         ; "M\0\0\0"

PLATFORM_PROBED         equ 0x100       ; cache = PLATFORM_PROBED | EN_PLATFORM_*
PLATFORM_ID_MASK        equ 0xFF

section .bss nobits alloc noexec write align=4
platform_cache:         resd 1          ; 0 until the first probe

section .text
en_platform:
    mov eax, [abs platform_cache]       ; .bss is RAM: absolute, not RIP-relative (enlighten.inc)
    test eax, PLATFORM_PROBED
    jnz .cached
    push rbx
    push rcx
    push rdx

    ; TDX: leaf 0x21 must exist before it can be read.
    mov eax, CPUID_MAX_BASIC
    cpuid
    cmp eax, CPUID_TDX_LEAF
    jb .not_tdx
    mov eax, CPUID_TDX_LEAF
    xor ecx, ecx
    cpuid
    cmp ebx, TDX_SIG_EBX
    jne .not_tdx
    cmp edx, TDX_SIG_EDX
    jne .not_tdx
    cmp ecx, TDX_SIG_ECX
    jne .not_tdx
    mov eax, EN_PLATFORM_TDX
    jmp .store

.not_tdx:
    mov eax, CPUID_MAX_EXTENDED
    cpuid
    cmp eax, CPUID_SEV_LEAF
    jb .not_snp
    mov eax, CPUID_SEV_LEAF
    xor ecx, ecx
    cpuid
    test eax, CPUID_SEV_EAX_SEV
    jz .not_snp
    mov ecx, MSR_AMD64_SEV
    rdmsr
    bt eax, MSR_AMD64_SEV_SNP_ENABLED_BIT
    jnc .not_snp
    mov eax, EN_PLATFORM_SNP
    jmp .store

.not_snp:
    mov eax, CPUID_KVM_SIGNATURE
    cpuid
    cmp ebx, KVM_SIG_EBX
    jne .none
    cmp ecx, KVM_SIG_ECX
    jne .none
    cmp edx, KVM_SIG_EDX
    jne .none
    mov eax, CPUID_KVM_FEATURES
    cpuid
    bt eax, KVM_FEATURE_HC_MAP_GPA_RANGE
    jnc .none
    mov eax, EN_PLATFORM_KVM
    jmp .store

.none:
    mov eax, EN_PLATFORM_NONE
.store:
    or eax, PLATFORM_PROBED
    mov [abs platform_cache], eax
    pop rdx
    pop rcx
    pop rbx
.cached:
    and eax, PLATFORM_ID_MASK
    ret

en_shared_alias:
    push rdi
    call en_platform
    pop rdi
    cmp eax, EN_PLATFORM_TDX
    je .alias
    cmp eax, EN_PLATFORM_SNP
    jne .identity
    push rbx
    push rcx
    push rdx
    mov eax, CPUID_SEV_LEAF
    cpuid
    mov ecx, ebx
    and ecx, CPUID_SEV_EBX_CBIT_MASK
    mov rax, cr3
    shr rax, cl
    pop rdx
    pop rcx
    pop rbx
    test al, 1
    jz .identity                        ; C=0 tables: one view serves both states
.alias:
    mov rax, EN_SHARED_ALIAS_BASE
    add rax, rdi
    ret
.identity:
    mov rax, rdi
    ret
