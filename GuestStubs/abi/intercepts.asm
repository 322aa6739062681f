; intercepts.asm — en_forward_intercepts: opt in to handling the instructions SEV-SNP and TDX
; intercept (IN/OUT, CPUID, RDMSR/WRMSR; HLT on TDX) as Linux and edk2 guests do, by
; forwarding them to the host (vc_forward.asm on #VC, ve_forward.asm on #VE).
;
;   en_forward_intercepts() -> nothing
;       en_exception_hooks[29] (#VC) := en_vc_forward, en_exception_hooks[20] (#VE) :=
;       en_ve_forward. Either hook only ever runs on its own platform's exception, so both
;       are installed whatever the platform; on KVM nothing is intercepted and neither runs.
;       The hooks are global (one table for every vCPU). Clobbers rax.
; Without it the runtime reports a #VC / #VE as an exception and stops the vCPU: a stub that
; executes a raw `out` under --platform ghcb fails with #VC 0x7B, as on hardware.

%define EN_ABI_SOURCE
%include "enlighten.inc"
%include "interfaces.inc"

global en_forward_intercepts
extern en_vc_forward
extern en_ve_forward

VECTOR_VE   equ 20                      ; virtualization exception (Intel SDM vol. 3 table 6-1)
VECTOR_VC   equ 29                      ; VMM communication exception (AMD APM vol. 2 §8.2)
HOOK_SIZE   equ 8

section .text
en_forward_intercepts:
    lea rax, [rel en_vc_forward]
    mov [abs en_exception_hooks + VECTOR_VC * HOOK_SIZE], rax   ; .bss is RAM: absolute
    lea rax, [rel en_ve_forward]
    mov [abs en_exception_hooks + VECTOR_VE * HOOK_SIZE], rax
    ret
