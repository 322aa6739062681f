; raw-out.asm — a stub that writes one byte to the debug console with a raw `out`, as a stub
; written for plain KVM would, then returns 0. On SEV-SNP and TDX hardware the instruction is
; not executed: #VC with error code 0x7B (SVM_EXIT_IOIO) or #VE with exit reason 30 at it, and
; this stub has no handler, so the run stops there with the exception and the port named
; (VALUE #VC.port / #VE.port from the runtime's handler). On KVM it reaches the device.

%include "enlighten.inc"

section .text
global main
global raw_out
main:
    mov edx, EN_PORT_DEBUGCON
    mov al, '!'
raw_out:
    out dx, al
    xor eax, eax
    ret
