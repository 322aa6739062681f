; ghcb-terminate.asm — the GHCB termination request as an NAE event (SNP platform only): the
; run must end there, as the guest's verdict, with its reason set and code, and the guest
; must not resume.
;
; Expected (GHCB specification §4.1.13 "Termination Request"; uapi asm/svm.h
; SVM_VMGEXIT_TERM_REQUEST 0x8000FFFE, SW_EXITINFO1 [3:0] reason set, [11:4] reason code;
; KVM ends the run with KVM_SYSTEM_EVENT_SEV_TERM, arch/x86/kvm/svm/sev.c): the run stops
; with "the guest asked to terminate: reason set 0, code 0 (general termination request)",
; and no CHECK after the request arrives.
;
; Records: CHECK ghcb.platform, ghcb.init; then nothing.

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

REASON_SET      equ 0                   ; the GHCB specification's general set
REASON_CODE     equ 0                   ; general termination request

scenario:
    REQUIRE_GHCB
    call ghcb_nae_prepare
    mov rbx, rax
    mov eax, SVM_VMGEXIT_TERM_REQUEST   ; through eax: an imm32 store would sign-extend it
    mov [rbx + GHCB_SW_EXIT_CODE], rax
    mov qword [rbx + GHCB_SW_EXIT_INFO_1], (REASON_CODE << 4) | REASON_SET
    mov qword [rbx + GHCB_SW_EXIT_INFO_2], 0
    or byte [rbx + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_EXIT_CODE | GHCB_VALID_SW_EXIT_INFO_1 | GHCB_VALID_SW_EXIT_INFO_2
    call ghcb_nae_send
    EXPECT "terminate.resumed", 1, 0    ; the hypervisor must never resume the guest
    ret
