; tdx-fatal-error.asm — TDG.VP.VMCALL<ReportFatalError> (TDX platform only): the run must end
; there, as the guest's verdict, with its error code and message, and the guest must not
; resume.
;
; Expected (GHCI "TDG.VP.VMCALL<ReportFatalError>": R12 error code, bit 63 clear so R13 holds
; no GPA, the message in R14, R15, … up to the first NUL; KVM ends the run with
; KVM_SYSTEM_EVENT_TDX_FATAL, arch/x86/kvm/vmx/tdx.c; QEMU target/i386/kvm/tdx.c reads the
; message): the run stops with "the guest asked to terminate: ReportFatalError, error code
; 0x1234, message "enlighten"", and no CHECK after the call.
;
; Records: CHECK tdx.platform; then nothing.

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

ERROR_CODE      equ 0x1234
MESSAGE_LOW     equ 'enlighte'              ; R14: the message's first eight bytes
MESSAGE_HIGH    equ 'n'                     ; R15: the rest, NUL-terminated

scenario:
    REQUIRE_PLATFORM EN_PLATFORM_TDX, "tdx.platform"
    mov edi, TDVMCALL_REPORT_FATAL_ERROR
    mov esi, ERROR_CODE
    xor edx, edx
    mov rcx, MESSAGE_LOW
    mov r8d, MESSAGE_HIGH
    call tdx_vmcall
    EXPECT "fatal.resumed", 1, 0        ; the VMM must never resume the guest
    ret
