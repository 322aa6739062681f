; vc-forward-msr.asm — the MSR path of the library's #VC handler (abi/vc_forward.asm), called
; directly with a frame the stub builds, as the runtime's common handler would call it for a
; #VC 0x7C at a RDMSR / WRMSR (the runner does not raise that #VC yet). SEV-SNP only.
;
; The frame: RIP = the address of an RDMSR (then a WRMSR) the stub never executes, RCX = an MSR
; nobody emulates, RAX/RDX = a value to write. The hypervisor refuses it with SW_EXITINFO1 1
; and SW_EXITINFO2 0x8000030D (#GP; svm.c svm_complete_emulated_msr), so the handler reports
; VALUE #VC.exception and returns 0, leaving RIP at the instruction.
;
; Records: CHECK msr.read.handled (0), msr.read.rip (unchanged), msr.write.handled (0); VALUE
; #VC.exception twice.

%include "enlighten.inc"
%include "interfaces.inc"

VECTOR_VC       equ 29
UNKNOWN_MSR     equ 0x40001234
WRITE_LOW       equ 0x11223344
WRITE_HIGH      equ 0x55667788
FRAME_BYTES     equ 128
FRAME_RIP_AT    equ 64                  ; &RIP inside the area: room for the saved registers below

section .text
global main
main:
    push rbx
    sub rsp, FRAME_BYTES                ; rsp 16-byte aligned for the calls
    lea rbx, [rsp + FRAME_RIP_AT]

    lea rax, [rel fake_rdmsr]
    mov [rbx + EN_HOOK_RIP], rax
    mov qword [rbx + EN_HOOK_RCX], UNKNOWN_MSR
    mov qword [rbx + EN_HOOK_RAX], 0
    mov qword [rbx + EN_HOOK_RDX], 0
    mov edi, VECTOR_VC
    mov esi, SVM_EXIT_MSR
    mov rdx, rbx
    call en_vc_forward
    CHECK "msr.read.handled", rax, 0
    lea rcx, [rel fake_rdmsr]
    CHECK "msr.read.rip", qword [rbx + EN_HOOK_RIP], rcx

    lea rax, [rel fake_wrmsr]
    mov [rbx + EN_HOOK_RIP], rax
    mov qword [rbx + EN_HOOK_RAX], WRITE_LOW
    mov qword [rbx + EN_HOOK_RDX], WRITE_HIGH
    mov edi, VECTOR_VC
    mov esi, SVM_EXIT_MSR
    mov rdx, rbx
    call en_vc_forward
    CHECK "msr.write.handled", rax, 0

    add rsp, FRAME_BYTES
    pop rbx
    xor eax, eax
    ret

fake_rdmsr:                             ; never executed: only the handler decodes them
    rdmsr
fake_wrmsr:
    wrmsr
