; unserved-tdcall.asm — a stub that makes one TDCALL (TDG.VP.INFO) through the library's
; request site, for runs that do not serve TDX: without --platform, or as kvm. No such run
; arms that site, so the instruction runs as on a plain guest and faults (an emulation
; failure on kvm_pvm, #UD where hardware virtualization runs it); the fault's location names
; the site's platform and the option that serves it.

%include "enlighten.inc"

extern tdx_tdcall_raw

TDG_VP_INFO equ 1

section .text
global main
main:
    mov edi, TDG_VP_INFO
    call tdx_tdcall_raw
    xor eax, eax
    ret
