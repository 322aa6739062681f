; kvm_hypercall.asm — KVM_HC_MAP_GPA_RANGE, the plain KVM paravirtual hypercall.
;
; kvm_map_gpa_range(rdi = gpa, rsi = npages (4 KiB pages), rdx = attributes) -> rax
;   Issues hypercall 12 with rax = 12, rbx = gpa, rcx = npages, rdx = attributes, rsi = 0
;   (a3, unused) and returns the raw result from rax: 0, or -KVM_EINVAL (-22) for an unaligned
;   gpa, npages == 0 or a range that wraps (KVM's checks); other negative KVM_E* values as the
;   host answers. attributes = KVM_MAP_GPA_RANGE_PAGE_SZ_{4K,2M,1G} (bits 3:0)
;   | KVM_MAP_GPA_RANGE_ENCRYPTED (bit 4) for private, no bit 4 for shared.
;   Preserves rbx, rbp, r12-r15. Clobbers rcx, rdx, rsi, r8-r11.
;
; Intel CPUs hypercall with `vmcall` (0F 01 C1), AMD and Hygon with `vmmcall` (0F 01 D9). The
; vendor comes from CPUID leaf 0 once and is cached. A wrong-vendor instruction would be #UD
; or, with KVM_X86_QUIRK_FIX_HYPERCALL_INSN, patched in guest memory: each has its own site.
;
; Request sites: __enlighten_site_kvm_vmcall, __enlighten_site_kvm_vmmcall.

%define EN_ABI_SOURCE
%include "enlighten.inc"
%include "interfaces.inc"

global kvm_map_gpa_range
global __enlighten_site_kvm_vmcall
global __enlighten_site_kvm_vmmcall

CPUID_VENDOR            equ 0
INTEL_EBX               equ 'Genu'      ; "GenuineIntel" is split EBX, EDX, ECX
INTEL_EDX               equ 'ineI'
INTEL_ECX               equ 'ntel'

INSN_UNKNOWN            equ 0           ; .bss starts zero: not decided yet
INSN_VMCALL             equ 1
INSN_VMMCALL            equ 2

section .bss nobits alloc noexec write align=4
hypercall_insn:         resd 1

section .text
kvm_map_gpa_range:
    push rbx
    mov r9, rdi                         ; cpuid below clobbers rbx, rcx, rdx
    mov r10, rsi
    mov r11, rdx

    mov r8d, [abs hypercall_insn]       ; .bss is RAM: absolute, not RIP-relative
    test r8d, r8d
    jnz .have_insn
    mov eax, CPUID_VENDOR
    cpuid
    mov r8d, INSN_VMMCALL
    cmp ebx, INTEL_EBX
    jne .store
    cmp edx, INTEL_EDX
    jne .store
    cmp ecx, INTEL_ECX
    jne .store
    mov r8d, INSN_VMCALL
.store:
    mov [abs hypercall_insn], r8d

.have_insn:
    mov eax, KVM_HC_MAP_GPA_RANGE
    mov rbx, r9                         ; a0 = gpa
    mov rcx, r10                        ; a1 = npages
    mov rdx, r11                        ; a2 = attributes
    xor esi, esi                        ; a3 is unused by this hypercall
    cmp r8d, INSN_VMCALL
    je __enlighten_site_kvm_vmcall

__enlighten_site_kvm_vmmcall:
    vmmcall
    pop rbx
    ret

__enlighten_site_kvm_vmcall:
    vmcall
    pop rbx
    ret
