; ve_forward.asm — en_ve_forward: a #VE handler that does what the TDX module leaves to the
; guest for an instruction it does not handle itself: forward it to the VMM as a
; TDG.VP.VMCALL, put the answer in the interrupted registers and move RIP past the
; instruction by the length TDG.VP.VEINFO.GET reports, as Linux's virt_exception_kernel
; (arch/x86/coco/tdx/tdx.c: handle_io, handle_cpuid, read_msr, write_msr, handle_halt,
; ve_instr_len) and edk2's CcExitVeHandler (OvmfPkg/Library/CcExitLib) do.
;
;   en_ve_forward(rdi = vector, rsi = error code (none: 0), rdx = &interrupted RIP)
;       -> rax = 1: handled, resume after the instruction; 0: not handled, the runtime
;       reports the #VE as an exception (the en_exception_hooks contract, runtime/idt.asm).
;   Installed by en_forward_intercepts (intercepts.asm); nothing installs it by default.
;
; TDG.VP.VEINFO.GET (tdx.asm tdx_veinfo_get) names the cause; it also clears VE_INFO.VALID,
; so a #VE left unhandled is reported with the VALUEs `#VE.exit_reason` and
; `#VE.exit_qualification` written here (the runtime's report finds no VE info any more).
; Forwarded, by exit reason (Intel SDM vol. 3 appendix C; GHCI TDG.VP.VMCALL<Instruction.*>):
;   30 IO      IN/OUT of 1, 2 or 4 bytes, from the exit qualification (size - 1 in bits 2:0,
;              IN in bit 3, string in bit 4, the port in 31:16): Instruction.IO (R12 size, R13
;              0 read / 1 write, R14 port, R15 RAX). An IN's answer replaces AL/AX, or EAX
;              zero-extended into RAX. String forms are not forwarded.
;   10 CPUID   Linux's rule: only a leaf of the hypervisor range 0x40000000-0x4FFFFFFF goes to
;              the VMM (Instruction.CPUID: R12 leaf, R13 subleaf -> R12-R15 EAX-EDX); any other
;              leaf reads as zeros ("matches CPU behaviour for non-supported leaf").
;   31 RDMSR   Instruction.RDMSR (R12 index -> R11): EAX/EDX zero-extended into RAX/RDX.
;   32 WRMSR   Instruction.WRMSR (R12 index, R13 EDX:EAX).
;   12 HLT     Instruction.HLT (R12 = 1 when the interrupted code had RFLAGS.IF clear: Linux
;              __halt(irq_disabled)).
; A TDVMCALL that fails (R10 not success, or the TDCALL itself) is not retried: the #VE is left
; unhandled, with VALUE `#VE.tdvmcall_status` = the status (Linux turns the failure into a
; #GP, ve_raise_fault). A TDCALL that fails outright asks the VMM for nothing more.
; Keeps rbp and r12-r15; writes rbx only as a CPUID's EBX. tdx_vmcall_out (tdx.asm) is put
; back as it was: the interrupted code may be between its own tdx_vmcall and reading it.

%define EN_ABI_SOURCE
%include "enlighten.inc"
%include "interfaces.inc"

global en_ve_forward
extern tdx_veinfo_get
extern tdx_vmcall
extern tdx_vmcall_out
extern tdx_io

EXIT_REASON_CPUID   equ TDVMCALL_CPUID  ; the sub-functions below 0x10000 are the exit reasons
EXIT_REASON_HLT     equ TDVMCALL_HLT
EXIT_REASON_IO      equ TDVMCALL_IO
EXIT_REASON_RDMSR   equ TDVMCALL_RDMSR
EXIT_REASON_WRMSR   equ TDVMCALL_WRMSR
IO_SIZE_MASK        equ 0x7             ; exit qualification (SDM vol. 3 table 28-5)
IO_DIRECTION_IN     equ 1 << 3
IO_STRING           equ 1 << 4
IO_PORT_SHIFT       equ 16
TDX_IO_READ         equ 0
TDX_IO_WRITE        equ 1
HYPERVISOR_LEAF_FIRST equ 0x40000000
HYPERVISOR_LEAF_LAST  equ 0x4FFFFFFF
SIZE_BYTE           equ 1
SIZE_WORD           equ 2
MASK_BYTE           equ 0xFF
MASK_WORD           equ 0xFFFF
VMCALL_OUT_QWORDS   equ 4

section .rodata
exit_reason_name:   db "#VE.exit_reason", 0
qualification_name: db "#VE.exit_qualification", 0
status_name:        db "#VE.tdvmcall_status", 0

section .text

; Registers through the handler: r12 = &interrupted RIP, r13 = the exit reason, r14 = the exit
; qualification, r15 = the instruction's length; every path ends at handled or unhandled (or
; failed) with nothing else on the stack.
en_ve_forward:
    push rbp
    push r12
    push r13
    push r14
    push r15                            ; rsp 16-byte aligned for the calls below
    mov r12, rdx
    call tdx_veinfo_get                 ; rax status, rcx reason, rdx qualification, r10 length
    test rax, rax
    jnz unhandled_quiet                 ; no VE info: nothing to forward, nothing to add
    mov r13d, ecx
    mov r14, rdx
    mov r15d, r10d
    test r15d, r15d
    jz unhandled                        ; no length (an EPT violation): not an instruction's
    cmp r13d, EXIT_REASON_IO
    je io
    cmp r13d, EXIT_REASON_CPUID
    je cpuid_leaf
    cmp r13d, EXIT_REASON_RDMSR
    je rdmsr
    cmp r13d, EXIT_REASON_WRMSR
    je wrmsr
    cmp r13d, EXIT_REASON_HLT
    je hlt
    jmp unhandled

io:
    test r14d, IO_STRING
    jnz unhandled
    mov rdi, r14
    shr rdi, IO_PORT_SHIFT
    movzx edi, di
    mov esi, r14d
    and esi, IO_SIZE_MASK
    inc esi                             ; size
    mov ebp, esi
    mov edx, TDX_IO_READ
    test r14d, IO_DIRECTION_IN
    jnz .call
    mov edx, TDX_IO_WRITE
.call:
    mov rcx, [r12 + EN_HOOK_RAX]        ; the value an OUT writes (the VMM takes `size` bytes)
    call tdx_io                         ; rax = status, rdx = R11
    test rax, rax
    jnz failed
    test r14d, IO_DIRECTION_IN
    jz handled
    mov rax, rdx
    mov rcx, [r12 + EN_HOOK_RAX]
    cmp ebp, SIZE_BYTE
    je .in8
    cmp ebp, SIZE_WORD
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
    jmp handled

cpuid_leaf:
    mov eax, [r12 + EN_HOOK_RAX]
    cmp eax, HYPERVISOR_LEAF_FIRST
    jb .zeros
    cmp eax, HYPERVISOR_LEAF_LAST
    ja .zeros
    ; Keep the interrupted code's tdx_vmcall_out across this call.
    push qword [abs tdx_vmcall_out + 24]
    push qword [abs tdx_vmcall_out + 16]
    push qword [abs tdx_vmcall_out + 8]
    push qword [abs tdx_vmcall_out]
    mov edi, TDVMCALL_CPUID
    mov esi, eax
    mov edx, [r12 + EN_HOOK_RCX]
    xor ecx, ecx
    xor r8d, r8d
    call tdx_vmcall                     ; rax = status; R12-R15 in tdx_vmcall_out
    mov r8d, [abs tdx_vmcall_out]       ; 32-bit loads: CPUID zero-extends what it writes
    mov r9d, [abs tdx_vmcall_out + 8]
    mov r10d, [abs tdx_vmcall_out + 16]
    mov r11d, [abs tdx_vmcall_out + 24]
    pop qword [abs tdx_vmcall_out]
    pop qword [abs tdx_vmcall_out + 8]
    pop qword [abs tdx_vmcall_out + 16]
    pop qword [abs tdx_vmcall_out + 24]
    test rax, rax
    jnz failed
    mov [r12 + EN_HOOK_RAX], r8
    mov [r12 + EN_HOOK_RCX], r10
    mov [r12 + EN_HOOK_RDX], r11
    mov ebx, r9d                        ; rbx is the interrupted code's own register here
    jmp handled
.zeros:
    xor eax, eax
    mov [r12 + EN_HOOK_RAX], rax
    mov [r12 + EN_HOOK_RCX], rax
    mov [r12 + EN_HOOK_RDX], rax
    xor ebx, ebx
    jmp handled

rdmsr:
    mov edi, TDVMCALL_RDMSR
    mov esi, [r12 + EN_HOOK_RCX]
    xor edx, edx
    xor ecx, ecx
    xor r8d, r8d
    call vmcall_kept                    ; rax = status, rdx = R11 (the value)
    test rax, rax
    jnz failed
    mov eax, edx
    mov [r12 + EN_HOOK_RAX], rax
    shr rdx, 32
    mov [r12 + EN_HOOK_RDX], rdx
    jmp handled

wrmsr:
    mov edi, TDVMCALL_WRMSR
    mov esi, [r12 + EN_HOOK_RCX]
    mov edx, [r12 + EN_HOOK_RDX]
    shl rdx, 32
    mov eax, [r12 + EN_HOOK_RAX]
    or rdx, rax
    xor ecx, ecx
    xor r8d, r8d
    call vmcall_kept
    test rax, rax
    jnz failed
    jmp handled

hlt:
    mov edi, TDVMCALL_HLT
    xor esi, esi
    test qword [r12 + EN_HOOK_RFLAGS], EN_RFLAGS_IF
    setz sil                            ; 1: interrupts blocked
    xor edx, edx
    xor ecx, ecx
    xor r8d, r8d
    call vmcall_kept
    test rax, rax
    jnz failed
    jmp handled

; vmcall_kept: tdx_vmcall with the interrupted code's tdx_vmcall_out kept as it was.
vmcall_kept:
    push qword [abs tdx_vmcall_out + 24]
    push qword [abs tdx_vmcall_out + 16]
    push qword [abs tdx_vmcall_out + 8]
    push qword [abs tdx_vmcall_out]
    sub rsp, 8                          ; 16-byte alignment for the call
    call tdx_vmcall
    add rsp, 8
    pop qword [abs tdx_vmcall_out]
    pop qword [abs tdx_vmcall_out + 8]
    pop qword [abs tdx_vmcall_out + 16]
    pop qword [abs tdx_vmcall_out + 24]
    ret

; A failed TDVMCALL: the status as a VALUE, then the #VE's cause, left unhandled.
failed:
    mov rsi, rax
    lea rdi, [rel status_name]
    call en_value
unhandled:
    mov esi, r13d
    lea rdi, [rel exit_reason_name]
    call en_value
    mov rsi, r14
    lea rdi, [rel qualification_name]
    call en_value
unhandled_quiet:
    xor eax, eax
    jmp leave_handler
handled:
    mov eax, r15d
    add [r12 + EN_HOOK_RIP], rax
    mov eax, 1
leave_handler:
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    ret
