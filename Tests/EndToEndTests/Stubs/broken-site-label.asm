; broken-site-label.asm — a stub that labels a request site (stub contract: `__enlighten_site_*`)
; on an instruction that is not a request (a `nop`, not vmcall, vmmcall, VMGEXIT or TDCALL).
; The trap transport must check the bytes at every site and refuse the image before it runs,
; naming the site, rather than trap and misread whatever executes there.

%include "enlighten.inc"

global main
global __enlighten_site_mislabelled

section .text
main:
__enlighten_site_mislabelled:
    nop
    xor eax, eax
    ret
