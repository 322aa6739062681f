; platform.asm — which conversion interface this guest must speak, found as real guests find it.
;
; en_platform() -> eax = EN_PLATFORM_TDX (3), EN_PLATFORM_SNP (2), EN_PLATFORM_KVM (1) or
;                        EN_PLATFORM_NONE (0); upper half of rax zero. Preserves every register
;                        but rax (cpuid clobbers rbx/rcx/rdx: saved). The first call probes,
;                        later calls return the cached answer.
;
; Probe order, most specific first (a TD or an SNP guest may also see a KVM signature). The
; platform is not known yet, so the first CPUID goes through the runtime's __en_cpuid_safe
; (runtime/idt.asm): on SEV-ES/SNP hardware a CPUID is #VC 0x72, which it turns into CF = 1.
;   SNP  that first CPUID faulted (hardware: CPUID is intercepted), or CPUID.0x80000000.EAX >=
;        0x8000001F and CPUID.0x8000001F.EAX bit 1 (SEV) where it is not (this runner, which
;        lets KVM answer CPUID); then SEV_STATUS MSR 0xC0010131 bit 2
;        (MSR_AMD64_SEV_SNP_ENABLED_BIT), which an SNP guest reads without an intercept, as
;        Linux sme_enable does after its CPUID check. Read through __en_rdmsr_safe, so a VMM
;        that advertises SEV without the MSR (#GP) reads as "not SNP". A non-SEV guest never
;        touches the MSR (on this runner that would be a user-space MSR exit).
;   TDX  CPUID.0.EAX >= 0x21 and CPUID.(0x21,0) = "IntelTDX    " in EBX, EDX, ECX
;        (Linux tdx_early_init reads sig[0] = EBX, sig[1] = EDX, sig[2] = ECX, by a raw CPUID).
;        In a TD the TDX module answers the leaves it virtualizes, 0x21 (its own) among them;
;        only the others raise #VE, and Linux tdx.c handle_cpuid forwards only the hypervisor
;        range 0x40000000-0x4FFFFFFF to the VMM (docs/cpuid.md).
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
;   The C-bit position is read once (en_cpuid_reg) and cached.
;
; en_cpuid_reg(edi = leaf, esi = subleaf, edx = register: 0 EAX, 1 EBX, 2 ECX, 3 EDX) -> eax
;   CPUID without a raw `cpuid` where the platform intercepts it: on SEV-SNP the GHCB MSR
;   protocol's CPUID request (0x004; the hypervisor's answer, as Linux __sev_cpuid_hv_msr —
;   the subleaf cannot be given, so only for leaves that have none), on TDX
;   TDG.VP.VMCALL<Instruction.CPUID> (tdx_cpuid), else raw CPUID. 0 when the platform's
;   request failed. Clobbers the System V caller-saved registers.

%define EN_ABI_SOURCE
%include "enlighten.inc"
%include "interfaces.inc"

global en_platform
global en_shared_alias
global en_cpuid_reg
extern __en_rdmsr_safe
extern __en_cpuid_safe
extern ghcb_msr_call
extern tdx_cpuid

CPUID_MAX_BASIC         equ 0
CPUID_TDX_LEAF          equ 0x21
CPUID_MAX_EXTENDED      equ 0x80000000
CPUID_SEV_EAX_SEV       equ 1 << 1      ; AMD_SEV_BIT
CPUID_SEV_LEAF          equ 0x8000001F
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
CBIT_KNOWN              equ 0x80        ; cbit_cache = CBIT_KNOWN | position
CPUID_REG_EBX           equ 1
CPUID_REG_MASK          equ 3
GHCB_MSR_INFO_BITS      equ 0xFFF       ; [11:0]: the MSR protocol's request/response code

section .bss nobits alloc noexec write align=4
platform_cache:         resd 1          ; 0 until the first probe
cbit_cache:             resb 1          ; 0 until en_shared_alias first needs it on SNP

section .text
en_platform:
    mov eax, [abs platform_cache]       ; .bss is RAM: absolute, not RIP-relative (enlighten.inc)
    test eax, PLATFORM_PROBED
    jnz .cached
    push rbx
    push rcx
    push rdx

    ; The first CPUID: a fault means SEV-ES/SNP hardware, which intercepts it.
    mov eax, CPUID_MAX_BASIC
    xor ecx, ecx
    call __en_cpuid_safe
    jc .sev_status

    ; TDX: leaf 0x21 must exist before it can be read.
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
.sev_status:
    mov ecx, MSR_AMD64_SEV
    call __en_rdmsr_safe
    jc .not_snp                         ; no such MSR after all
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
    push rcx
    movzx ecx, byte [abs cbit_cache]
    test ecx, CBIT_KNOWN
    jnz .cbit_known
    push rdx
    push rsi
    push rdi
    push r8
    push r9
    push r10
    push r11
    mov edi, CPUID_SEV_LEAF
    xor esi, esi
    mov edx, CPUID_REG_EBX
    call en_cpuid_reg
    and eax, CPUID_SEV_EBX_CBIT_MASK
    or eax, CBIT_KNOWN
    mov [abs cbit_cache], al            ; every vCPU stores the same value
    mov ecx, eax
    pop r11
    pop r10
    pop r9
    pop r8
    pop rdi
    pop rsi
    pop rdx
.cbit_known:
    and ecx, CPUID_SEV_EBX_CBIT_MASK
    mov rax, cr3
    shr rax, cl
    pop rcx
    test al, 1
    jz .identity                        ; C=0 tables: one view serves both states
.alias:
    mov rax, EN_SHARED_ALIAS_BASE
    add rax, rdi
    ret
.identity:
    mov rax, rdi
    ret

en_cpuid_reg:
    call en_platform                    ; preserves every register but rax
    cmp eax, EN_PLATFORM_SNP
    je .snp
    cmp eax, EN_PLATFORM_TDX
    je tdx_cpuid                        ; same arguments
    push rbx
    mov r8d, edx
    mov eax, edi
    mov ecx, esi
    cpuid
    sub rsp, 16
    mov [rsp], eax
    mov [rsp + 4], ebx
    mov [rsp + 8], ecx
    mov [rsp + 12], edx
    and r8d, CPUID_REG_MASK
    mov eax, [rsp + r8 * 4]
    add rsp, 16
    pop rbx
    ret
.snp:
    and edx, CPUID_REG_MASK
    shl edx, GHCB_MSR_CPUID_REG_SHIFT
    or edx, GHCB_MSR_CPUID_REQ
    shl rdi, 32                         ; [63:32] the leaf
    or rdi, rdx
    call ghcb_msr_call
    mov edx, eax
    and edx, GHCB_MSR_INFO_BITS
    cmp edx, GHCB_MSR_CPUID_RESP
    jne .failed
    shr rax, 32                         ; [63:32] the register
    ret
.failed:
    xor eax, eax
    ret
