; vc_forward.asm — en_vc_forward: a #VC handler that does what SEV-SNP hardware leaves to the
; guest for an intercepted instruction: forward it to the hypervisor as a GHCB NAE event, put
; the answer in the interrupted registers and move RIP past the instruction, as Linux's
; vc_handle_exitcode (arch/x86/coco/sev/vc-handle.c: vc_handle_ioio, vc_handle_cpuid,
; vc_handle_msr) and edk2's CcExitVcHandler (OvmfPkg/Library/CcExitLib) do.
;
;   en_vc_forward(rdi = vector, rsi = error code (the SVM exit code), rdx = &interrupted RIP)
;       -> rax = 1: handled, resume after the instruction; 0: not handled, the runtime
;       reports the #VC as an exception (the en_exception_hooks contract, runtime/idt.asm).
;   Installed by en_forward_intercepts (intercepts.asm); nothing installs it by default, so a
;   stub that does not ask still fails at a raw instruction with #VC, as on hardware.
;
; Forwarded (the instruction decoded at RIP through its prefixes: 66, 67, F2/F3, segment
; overrides, one REX; SNP gives no instruction length, so the handler decodes as Linux does):
;   0x7B IOIO  IN/OUT with an imm8 port (E4-E7) or DX (EC-EF), 1, 2 or 4 bytes: SW_EXITINFO1 =
;              port << 16 | size bit | 64-bit address size | IN (AMD APM vol. 2 "IOIO
;              Intercept"), RAX for an OUT; an IN's answer replaces AL/AX, or EAX zero-extended
;              into RAX (what the instruction writes). String forms (INS/OUTS) are not forwarded.
;   0x72 CPUID the CPUID NAE event: RAX leaf, RCX subleaf, XCR0 (XGETBV when CR4.OSXSAVE, else
;              1, as vc_handle_cpuid); RAX, RBX, RCX, RDX of the answer, zero-extended.
;   0x7C MSR   RDMSR (0F 32) / WRMSR (0F 30): SW_EXITINFO1 0 / 1, RCX, and RAX/RDX for a write;
;              a read's EAX/EDX zero-extended into RAX/RDX.
; Answers (the low 32 bits of SW_EXITINFO1, Linux verify_exception_info):
;   0          done: registers written, RIP advanced, rax = 1.
;   1          the hypervisor asks for an exception (SW_EXITINFO2, e.g. #GP for an MSR it
;              refuses): reported as VALUE "#VC.exception" = SW_EXITINFO2 and rax = 0, so the
;              runtime reports the #VC (Linux would raise that exception instead).
;   otherwise  a protocol error, or a missing register in the answer: the guest asks to be
;              terminated (GHCB MSR protocol termination request, reason set 0 code 0), as
;              Linux's exc_vmm_communication does after ES_VMM_ERROR. Likewise when the vCPU
;              has no GHCB.
; Any other exit code, or an instruction it does not forward: rax = 0.
;
; It uses the vCPU's one GHCB (ghcb.asm): a #VC taken while the interrupted code has a GHCB
; request half built would overwrite it (Linux keeps a backup GHCB for that); the library
; takes no #VC between ghcb_nae_prepare and ghcb_nae_send.
; Keeps rbp and r12-r15; writes rbx only as a CPUID's EBX.

%define EN_ABI_SOURCE
%include "enlighten.inc"
%include "interfaces.inc"

global en_vc_forward
extern ghcb_nae_prepare
extern ghcb_nae_send
extern ghcb_msr_call

OPSIZE_PREFIX       equ 0x66
ADDRSIZE_PREFIX     equ 0x67
REPNE_PREFIX        equ 0xF2
REP_PREFIX          equ 0xF3
SEG_ES              equ 0x26            ; segment overrides (no effect on these instructions)
SEG_CS              equ 0x2E
SEG_SS              equ 0x36
SEG_DS              equ 0x3E
SEG_FS              equ 0x64
SEG_GS              equ 0x65
REX_MASK            equ 0xF0
REX_BASE            equ 0x40
TWO_BYTE_ESCAPE     equ 0x0F
OPCODE_CPUID        equ 0xA2
OPCODE_RDMSR        equ 0x32
OPCODE_WRMSR        equ 0x30
OPCODE_IN_IMM8      equ 0xE4            ; E4 IN AL, E5 IN eAX; E6/E7 OUT
OPCODE_OUT_IMM8_WIDE equ 0xE7
OPCODE_IN_DX        equ 0xEC            ; EC IN AL, ED IN eAX; EE/EF OUT
OPCODE_OUT_DX_WIDE  equ 0xEF
OPCODE_WIDE         equ 1               ; bit 0: eAX rather than AL
OPCODE_OUT          equ 2               ; bit 1: OUT rather than IN
PREFIXES_MAX        equ 14              ; an instruction is at most 15 bytes
CR4_OSXSAVE         equ 1 << 18
XCR0_DEFAULT        equ 1               ; x87 only: what Linux sends without OSXSAVE
XCR_XFEATURE_ENABLED equ 0
MSR_EXIT_READ       equ 0
MSR_EXIT_WRITE      equ 1
RESULT_MASK         equ 0xFFFFFFFF      ; SW_EXITINFO1[31:0]
RESULT_EXCEPTION    equ GHCB_HV_RESP_ISSUE_EXCEPTION
TERMINATE_GENERAL   equ GHCB_MSR_TERM_REQ   ; reason set 0 (general), code 0 (GHCB_SEV_ES_GEN_REQ)
SIZE_BYTE           equ 1
SIZE_WORD           equ 2
SIZE_DWORD          equ 4
MASK_BYTE           equ 0xFF
MASK_WORD           equ 0xFFFF
IOIO_SIZE_SHIFT     equ 4               ; DATA_8/16/32 = size << 4

section .rodata
vc_exception_name:  db "#VC.exception", 0

section .text

; Registers through the handler: r12 = &interrupted RIP, r13 = the opcode's address, r14 =
; flags of the prefixes (bit 0: 66 seen), r15 = the exit code; every path ends at handled or
; unhandled with nothing else on the stack.
PREFIX_OPSIZE       equ 1

en_vc_forward:
    push rbp
    push r12
    push r13
    push r14
    push r15                            ; rsp 16-byte aligned for the calls below
    mov r12, rdx
    mov r15, rsi
    mov r13, [r12 + EN_HOOK_RIP]
    xor r14d, r14d
    mov ecx, PREFIXES_MAX
.prefix:
    movzx eax, byte [r13]
    cmp al, OPSIZE_PREFIX
    jne .not_opsize
    or r14d, PREFIX_OPSIZE
    jmp .next
.not_opsize:
    cmp al, ADDRSIZE_PREFIX
    je .next
    cmp al, REPNE_PREFIX
    je .next
    cmp al, REP_PREFIX
    je .next
    cmp al, SEG_ES
    je .next
    cmp al, SEG_CS
    je .next
    cmp al, SEG_SS
    je .next
    cmp al, SEG_DS
    je .next
    cmp al, SEG_FS
    je .next
    cmp al, SEG_GS
    je .next
    mov edx, eax
    and edx, REX_MASK
    cmp edx, REX_BASE
    jne .opcode
    inc r13                             ; REX is the last prefix
    jmp .opcode
.next:
    inc r13
    dec ecx
    jnz .prefix
    jmp unhandled
.opcode:
    cmp r15, SVM_EXIT_IOIO
    je ioio
    cmp r15, SVM_EXIT_CPUID
    je cpuid_event
    cmp r15, SVM_EXIT_MSR
    je msr_event
    jmp unhandled

; ---- IOIO -------------------------------------------------------------------------------------
; From here: r13 = the next instruction's address, r14 = the size (bytes), r15 = SW_EXITINFO1,
; rbp = the GHCB.
ioio:
    movzx eax, byte [r13]
    mov ecx, eax
    and ecx, ~(OPCODE_WIDE | OPCODE_OUT)
    cmp ecx, OPCODE_IN_IMM8
    je .imm8
    cmp ecx, OPCODE_IN_DX
    jne unhandled                       ; INS/OUTS, or not an I/O instruction at all
    movzx r15d, word [r12 + EN_HOOK_RDX] ; the port from DX
    inc r13
    jmp .size
.imm8:
    movzx r15d, byte [r13 + 1]
    add r13, 2
.size:
    mov ecx, SIZE_BYTE
    test eax, OPCODE_WIDE
    jz .sized
    mov ecx, SIZE_DWORD
    test r14d, PREFIX_OPSIZE
    jz .sized
    mov ecx, SIZE_WORD
.sized:
    shl r15d, IOIO_PORT_SHIFT
    mov r14d, ecx                       ; the size from here on (the prefixes are done with)
    shl ecx, IOIO_SIZE_SHIFT
    or r15d, ecx
    or r15d, IOIO_ADDR_64               ; 64-bit mode (vc_ioio_exitinfo, address size 8)
    test eax, OPCODE_OUT
    jnz .out
    or r15d, IOIO_TYPE_IN
.out:
    call ghcb_nae_prepare               ; rax = the GHCB (shared view), or 0
    test rax, rax
    jz terminate
    mov rbp, rax
    mov qword [rbp + GHCB_SW_EXIT_CODE], SVM_EXIT_IOIO
    mov [rbp + GHCB_SW_EXIT_INFO_1], r15
    mov qword [rbp + GHCB_SW_EXIT_INFO_2], 0
    or byte [rbp + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_EXIT_CODE | GHCB_VALID_SW_EXIT_INFO_1 | GHCB_VALID_SW_EXIT_INFO_2
    test r15d, IOIO_TYPE_IN
    jnz .send
    mov rax, [r12 + EN_HOOK_RAX]
    mov [rbp + GHCB_RAX], rax
    or byte [rbp + GHCB_VALID_RAX_BYTE], GHCB_VALID_RAX
.send:
    call ghcb_nae_send                  ; rax = SW_EXITINFO1, rdx = SW_EXITINFO2
    call check_answer
    test eax, eax
    jnz unhandled
    test r15d, IOIO_TYPE_IN
    jz .advance
    test byte [rbp + GHCB_VALID_RAX_BYTE], GHCB_VALID_RAX
    jz terminate                        ; an IN answered without RAX (Linux: ES_VMM_ERROR)
    mov rax, [rbp + GHCB_RAX]
    mov rcx, [r12 + EN_HOOK_RAX]
    cmp r14d, SIZE_BYTE
    je .in8
    cmp r14d, SIZE_WORD
    je .in16
    mov eax, eax                        ; IN EAX zero-extends into RAX
    jmp .store
.in8:
    and rcx, ~MASK_BYTE
    and eax, MASK_BYTE
    or rax, rcx
    jmp .store
.in16:
    and rcx, ~MASK_WORD
    and eax, MASK_WORD
    or rax, rcx
.store:
    mov [r12 + EN_HOOK_RAX], rax
.advance:
    mov [r12 + EN_HOOK_RIP], r13
    jmp handled

; ---- CPUID ------------------------------------------------------------------------------------
cpuid_event:
    cmp byte [r13], TWO_BYTE_ESCAPE
    jne unhandled
    cmp byte [r13 + 1], OPCODE_CPUID
    jne unhandled
    call ghcb_nae_prepare
    test rax, rax
    jz terminate
    mov rbp, rax
    mov qword [rbp + GHCB_SW_EXIT_CODE], SVM_EXIT_CPUID
    mov qword [rbp + GHCB_SW_EXIT_INFO_1], 0
    mov qword [rbp + GHCB_SW_EXIT_INFO_2], 0
    or byte [rbp + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_EXIT_CODE | GHCB_VALID_SW_EXIT_INFO_1 | GHCB_VALID_SW_EXIT_INFO_2
    mov eax, [r12 + EN_HOOK_RAX]
    mov [rbp + GHCB_RAX], rax
    mov ecx, [r12 + EN_HOOK_RCX]
    mov [rbp + GHCB_RCX], rcx
    or byte [rbp + GHCB_VALID_RAX_BYTE], GHCB_VALID_RAX
    or byte [rbp + GHCB_VALID_RCX_BYTE], GHCB_VALID_RCX
    mov rax, cr4
    test eax, CR4_OSXSAVE
    mov eax, XCR0_DEFAULT
    mov edx, 0
    jz .xcr0
    mov ecx, XCR_XFEATURE_ENABLED
    xgetbv
.xcr0:
    shl rdx, 32
    or rax, rdx
    mov [rbp + GHCB_XCR0], rax
    or byte [rbp + GHCB_VALID_XCR0_BYTE], GHCB_VALID_XCR0
    call ghcb_nae_send
    call check_answer
    test eax, eax
    jnz unhandled
    ; All four registers must come back (Linux sev_cpuid_hv_ghcb: else ES_VMM_ERROR).
    test byte [rbp + GHCB_VALID_RAX_BYTE], GHCB_VALID_RAX
    jz terminate
    mov al, [rbp + GHCB_VALID_RCX_BYTE]
    and al, GHCB_VALID_RCX | GHCB_VALID_RDX | GHCB_VALID_RBX
    cmp al, GHCB_VALID_RCX | GHCB_VALID_RDX | GHCB_VALID_RBX
    jne terminate
    mov eax, [rbp + GHCB_RAX]           ; 32-bit loads: CPUID zero-extends what it writes
    mov [r12 + EN_HOOK_RAX], rax
    mov eax, [rbp + GHCB_RCX]
    mov [r12 + EN_HOOK_RCX], rax
    mov eax, [rbp + GHCB_RDX]
    mov [r12 + EN_HOOK_RDX], rax
    mov ebx, [rbp + GHCB_RBX]           ; rbx is the interrupted code's own register here
    lea rax, [r13 + 2]
    mov [r12 + EN_HOOK_RIP], rax
    jmp handled

; ---- MSR --------------------------------------------------------------------------------------
msr_event:
    cmp byte [r13], TWO_BYTE_ESCAPE
    jne unhandled
    mov r14d, MSR_EXIT_READ
    cmp byte [r13 + 1], OPCODE_RDMSR
    je .known
    mov r14d, MSR_EXIT_WRITE
    cmp byte [r13 + 1], OPCODE_WRMSR
    jne unhandled
.known:
    call ghcb_nae_prepare
    test rax, rax
    jz terminate
    mov rbp, rax
    mov qword [rbp + GHCB_SW_EXIT_CODE], SVM_EXIT_MSR
    mov [rbp + GHCB_SW_EXIT_INFO_1], r14
    mov qword [rbp + GHCB_SW_EXIT_INFO_2], 0
    or byte [rbp + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_EXIT_CODE | GHCB_VALID_SW_EXIT_INFO_1 | GHCB_VALID_SW_EXIT_INFO_2
    mov ecx, [r12 + EN_HOOK_RCX]
    mov [rbp + GHCB_RCX], rcx
    or byte [rbp + GHCB_VALID_RCX_BYTE], GHCB_VALID_RCX
    test r14d, r14d
    jz .send
    mov eax, [r12 + EN_HOOK_RAX]
    mov [rbp + GHCB_RAX], rax
    mov eax, [r12 + EN_HOOK_RDX]
    mov [rbp + GHCB_RDX], rax
    or byte [rbp + GHCB_VALID_RAX_BYTE], GHCB_VALID_RAX
    or byte [rbp + GHCB_VALID_RCX_BYTE], GHCB_VALID_RDX
.send:
    call ghcb_nae_send
    call check_answer
    test eax, eax
    jnz unhandled
    test r14d, r14d
    jnz .advance
    test byte [rbp + GHCB_VALID_RAX_BYTE], GHCB_VALID_RAX
    jz terminate
    test byte [rbp + GHCB_VALID_RCX_BYTE], GHCB_VALID_RDX
    jz terminate
    mov eax, [rbp + GHCB_RAX]
    mov [r12 + EN_HOOK_RAX], rax
    mov eax, [rbp + GHCB_RDX]
    mov [r12 + EN_HOOK_RDX], rax
.advance:
    lea rax, [r13 + 2]
    mov [r12 + EN_HOOK_RIP], rax
    jmp handled

; ---- answers ----------------------------------------------------------------------------------
; check_answer(rax = SW_EXITINFO1, rdx = SW_EXITINFO2) -> eax = 0: the event is done; 1: the
; hypervisor asks for an exception (reported as a VALUE first). Anything else terminates.
check_answer:
    test eax, RESULT_MASK
    jz .done
    cmp eax, RESULT_EXCEPTION
    jne terminate
    sub rsp, 8                          ; 16-byte alignment for the call
    mov rsi, rdx
    lea rdi, [rel vc_exception_name]
    call en_value
    add rsp, 8
    mov eax, 1
    ret
.done:
    xor eax, eax
    ret

; The hypervisor's answer is unusable, or there is no GHCB: nothing can be forwarded or
; reported, so ask to be terminated (Linux sev_es_terminate(SEV_TERM_SET_GEN,
; GHCB_SEV_ES_GEN_REQ)). The hypervisor does not return from it; if it did, halt for good.
terminate:
    mov edi, TERMINATE_GENERAL
    call ghcb_msr_call
.halt:
    cli
    hlt
    jmp .halt

unhandled:
    xor eax, eax
    jmp leave_handler
handled:
    mov eax, 1
leave_handler:
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    ret
