; idt.asm — exception handling: 32 entry stubs, the IDT, and the report that stops the vCPU.
;
; __enlighten_idt_load: fills the IDT (in .bss: a gate splits the handler address into three
;   pieces, which no relocation can express, so the table cannot be static) and loads it.
;   Needs a stack. Clobbers rax, rcx, rdx, rsi, rdi. Every vCPU may run it: they all write the
;   same bytes.
; Each exception: the stub pushes a dummy error code where the CPU pushes none, then the vector;
;   the common handler sends an EXCEPTION record (vector, error code, RIP, CR2; a text line on
;   0xE9 under other hosts), writes EN_EXIT_EXCEPTION_BASE + vector to port 0xF4 and halts.
;   A #VC IOIO (error code 0x7B) is reported with the port first (VALUE #VC.port, decoded
;   from the instruction at RIP), a #VE of an I/O instruction with #VE.port after its VE info.
;   A #VE is reported with what the TDX module says of it first: TDG.VP.VEINFO.GET's exit
;   reason, exit qualification, GLA and GPA as VALUE records `#VE.exit_reason`, … (the
;   #VE's cause lives only there: the exception has no error code and leaves CR2 alone).
;   The TDCALL is the interface library's (tdx.asm), referenced weakly; every image links it
;   now (the runtime's port I/O speaks TDVMCALL on TDX, portio.asm), so the weak reference
;   only keeps this file free of a hard dependency.
;   No TSS/IST: a fault that breaks the stack itself ends as a triple fault (shutdown).
; __en_rdmsr_safe(ecx = MSR) -> edx:eax, CF = 0; CF = 1 and eax = edx = 0 when the RDMSR
;   faulted (#GP for an MSR the CPU lacks, #VE in a TD for one the TDX module does not
;   virtualize): the common handler recognises the instruction's address and resumes after it
;   with CF set, as Linux's rdmsr_safe does through its exception table. Clobbers nothing
;   else. Needs the IDT (entry.asm loads it before anything calls this).
; __en_cpuid_safe(eax = leaf, ecx = subleaf) -> eax, ebx, ecx, edx, CF = 0; CF = 1 (registers
;   as they were) when the CPUID faulted: an SEV-ES/SNP guest's CPUID is #VC 0x72 on hardware
;   (AMD APM vol. 2 §15.35), which en_platform's first probe takes as "SEV-ES or SNP".
; en_exception_hooks: 32 qwords, one per vector, zero by default. A stub that expects an
;   exception (a #VE it handles by accepting the page, a #VC it counts) stores a handler there:
;   hook(rdi = vector, rsi = error code, rdx = &interrupted RIP (then CS, RFLAGS, RSP, SS))
;   -> rax = 1 to resume the interrupted instruction, 0 to report and stop as usual. The
;   interrupted code's registers are kept (the common handler saves every volatile one; the
;   hook keeps rbx, rbp, r12-r15 as System V says). A hook that emulates the instruction (the
;   #VC/#VE forwarding of abi/vc_forward.asm and abi/ve_forward.asm) changes the interrupted
;   registers where they were saved (enlighten.inc EN_HOOK_RAX, … relative to rdx) and RIP in
;   the frame, and may set rbx itself (CPUID's EBX).

%include "internal.inc"

global __enlighten_idt_load
global en_exception_hooks
global __en_rdmsr_safe
global __en_cpuid_safe
extern __en_report
extern en_done
extern en_value
extern tdx_veinfo_get:weak              ; 0 unless the image links GuestStubs/abi/tdx.asm

; Frame the handler sees, from rsp upwards.
FRAME_VECTOR    equ 0
FRAME_ERROR     equ 8
FRAME_RIP       equ 16                  ; then CS, RFLAGS, RSP, SS, pushed by the CPU
FRAME_RFLAGS    equ FRAME_RIP + 16
RFLAGS_CF       equ 1 << 0

IDT_SIZE        equ EN_EXCEPTION_VECTORS * EN_IDT_GATE_SIZE

; Gate fields (Intel SDM vol. 3 §6.14.1).
GATE_OFFSET_LOW     equ 0
GATE_SELECTOR       equ 2
GATE_IST            equ 4
GATE_TYPE           equ 5
GATE_OFFSET_MID     equ 6
GATE_OFFSET_HIGH    equ 8
GATE_RESERVED       equ 12

; Vectors for which the CPU pushes an error code: #DF 8, #TS 10, #NP 11, #SS 12, #GP 13,
; #PF 14, #AC 17, #CP 21, #VC 29 (SEV-ES/SNP), #SX 30.
%define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

section .bss nobits alloc noexec write align=16
idt:    resb IDT_SIZE
en_exception_hooks: resq EN_EXCEPTION_VECTORS

; The volatile registers the common handler saves around a hook, and their bytes.
SAVED_VOLATILE  equ 9 * 8

VECTOR_VE       equ 20                  ; virtualization exception (TDX)
VECTOR_VC       equ 29                  ; VMM communication exception (SEV-ES/SNP)
SVM_EXIT_IOIO   equ 0x7B                ; #VC's error code for IN/OUT/INS/OUTS (asm/svm.h)
EXIT_REASON_IO  equ 30                  ; #VE exit reason of an I/O instruction (asm/vmx.h)
PORT_SHIFT      equ 16                  ; the port in the I/O exit qualification's bits 31:16
PREFIXES_MAX    equ 4                   ; 66, 67, F2/F3, a segment override, REX: at most these
TDX_SUCCESS     equ 0

section .rodata progbits alloc noexec nowrite align=1
ve_exit_reason:         db "#VE.exit_reason", 0
ve_exit_qualification:  db "#VE.exit_qualification", 0
ve_gla:                 db "#VE.gla", 0
ve_gpa:                 db "#VE.gpa", 0
ve_port:                db "#VE.port", 0
vc_port:                db "#VC.port", 0

section .text progbits alloc exec nowrite align=16

    align EN_EXCEPTION_STUB_SIZE
exception_stubs:
%assign vector 0
%rep EN_EXCEPTION_VECTORS
  %if !HAS_ERROR_CODE(vector)
    push 0
  %endif
    push vector
    jmp exception_common
    align EN_EXCEPTION_STUB_SIZE, int3  ; never executed; keeps stub n at n * 16
  %assign vector vector + 1
%endrep
%if $ - exception_stubs != EN_EXCEPTION_VECTORS * EN_EXCEPTION_STUB_SIZE
  %error an exception stub outgrew EN_EXCEPTION_STUB_SIZE
%endif

exception_common:
    push rax
    lea rax, [rel safe_rdmsr]
    cmp rax, [rsp + 8 + FRAME_RIP]
    je .safe_faulted
    lea rax, [rel safe_cpuid]
    cmp rax, [rsp + 8 + FRAME_RIP]
    je .safe_faulted
    mov rax, [rsp + 8 + FRAME_VECTOR]
    mov rax, [abs en_exception_hooks + rax * 8]   ; .bss is RAM: absolute addressing
    test rax, rax
    jz .no_hook
    push rcx
    push rdx
    push rsi
    push rdi
    push r8
    push r9
    push r10
    push r11
    mov rdi, [rsp + SAVED_VOLATILE + FRAME_VECTOR]
    mov rsi, [rsp + SAVED_VOLATILE + FRAME_ERROR]
    lea rdx, [rsp + SAVED_VOLATILE + FRAME_RIP]
%if EN_HOOK_RAX != -(FRAME_RIP + 8) || EN_HOOK_RCX != EN_HOOK_RAX - 8 || EN_HOOK_RDX != EN_HOOK_RCX - 8
  %error enlighten.inc's EN_HOOK_* offsets no longer match the saves above
%endif
    call rax                            ; rsp is 16-byte aligned here (56-byte frame + 72)
    test rax, rax                       ; the pops below keep the flags
    pop r11
    pop r10
    pop r9
    pop r8
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rax
    jz .report
    add rsp, FRAME_RIP                  ; drop the vector and the error code
    iretq
.safe_faulted:                          ; the RDMSR or CPUID of a *_safe routine: resume after
    pop rax                             ; it (both are 2 bytes), CF = 1
    add qword [rsp + FRAME_RIP], SAFE_INSTRUCTION_LENGTH
    or qword [rsp + FRAME_RFLAGS], RFLAGS_CF
    add rsp, FRAME_RIP
    iretq
.no_hook:
    pop rax
.report:                                ; terminal: rbx, r12, r13 are free from here on
    cmp qword [rsp + FRAME_VECTOR], VECTOR_VC
    je .vc
    cmp qword [rsp + FRAME_VECTOR], VECTOR_VE
    jne .record
    mov rax, tdx_veinfo_get
    test rax, rax
    jz .record
    call rax                            ; rcx exit reason, rdx qualification, r8 GLA, r9 GPA
    test rax, rax
    jnz .record                         ; no valid VE info: the record alone says #VE
    mov r12d, ecx
    mov r13, rdx
    push r9
    push r8
    push rdx
    mov rsi, rcx
    lea rdi, [rel ve_exit_reason]
    call en_value
    pop rsi
    lea rdi, [rel ve_exit_qualification]
    call en_value
    pop rsi
    lea rdi, [rel ve_gla]
    call en_value
    pop rsi
    lea rdi, [rel ve_gpa]
    call en_value
    cmp r12d, EXIT_REASON_IO
    jne .record
    mov rsi, r13
    shr rsi, PORT_SHIFT
    movzx esi, si
    lea rdi, [rel ve_port]
    call en_value
    jmp .record
.vc:
    ; #VC IOIO: the hardware gives no exit information, so name the port from the instruction
    ; at RIP, as Linux's vc_ioio_exitinfo decodes it: imm8 for E4-E7, else DX (still the
    ; interrupted code's: the handler has not touched it).
    cmp qword [rsp + FRAME_ERROR], SVM_EXIT_IOIO
    jne .record
    movzx r12d, dx
    mov rbx, [rsp + FRAME_RIP]
    mov ecx, PREFIXES_MAX
.prefix:
    movzx eax, byte [rbx]
    cmp al, 0x66
    je .skip
    cmp al, 0x67
    je .skip
    cmp al, 0xF2
    je .skip
    cmp al, 0xF3
    je .skip
    mov edx, eax
    and edx, 0xF0
    cmp edx, 0x40                       ; REX
    je .skip
    jmp .opcode
.skip:
    inc rbx
    dec ecx
    jnz .prefix
    movzx eax, byte [rbx]
.opcode:
    cmp al, 0xE4
    jb .vc_port
    cmp al, 0xE7
    ja .vc_port
    movzx r12d, byte [rbx + 1]          ; IN/OUT imm8
.vc_port:
    mov rsi, r12
    lea rdi, [rel vc_port]
    call en_value
.record:
    mov rcx, [rsp + FRAME_VECTOR]       ; a
    mov r8, [rsp + FRAME_ERROR]         ; b
    mov r9, [rsp + FRAME_RIP]           ; c
    mov r10, cr2                        ; d
    mov edi, EN_RECORD_EXCEPTION
    xor edx, edx                        ; no name
    call __en_report
    mov edi, [rsp + FRAME_VECTOR]
    add edi, EN_EXIT_EXCEPTION_BASE
    jmp en_done

__en_rdmsr_safe:
    xor eax, eax                        ; also clears CF
    xor edx, edx
safe_rdmsr:
    rdmsr
SAFE_INSTRUCTION_LENGTH equ $ - safe_rdmsr  ; 0F 32, as CPUID's 0F A2
    ret

__en_cpuid_safe:
    clc
safe_cpuid:
    cpuid                               ; 0F A2: SAFE_INSTRUCTION_LENGTH too
    ret

__enlighten_idt_load:
    lea rsi, [rel exception_stubs]
    mov edi, idt                        ; RAM: absolute, not RIP-relative (see entry.asm)
    mov ecx, EN_EXCEPTION_VECTORS
.gate:
    mov rax, rsi
    mov [rdi + GATE_OFFSET_LOW], ax
    mov word [rdi + GATE_SELECTOR], EN_SEL_CODE64
    mov byte [rdi + GATE_IST], 0
    mov byte [rdi + GATE_TYPE], EN_IDT_GATE_INTERRUPT
    shr rax, 16
    mov [rdi + GATE_OFFSET_MID], ax
    shr rax, 16
    mov [rdi + GATE_OFFSET_HIGH], eax
    mov dword [rdi + GATE_RESERVED], 0
    add rsi, EN_EXCEPTION_STUB_SIZE
    add rdi, EN_IDT_GATE_SIZE
    dec ecx
    jnz .gate

    ; The IDTR operand (2-byte limit, 8-byte base) is built on the stack.
    sub rsp, 16
    mov word [rsp], IDT_SIZE - 1
    mov qword [rsp + 2], idt
    lidt [rsp]
    add rsp, 16
    ret
