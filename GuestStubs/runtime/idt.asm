; idt.asm — exception handling: 32 entry stubs, the IDT, and the report that stops the vCPU.
;
; __enlighten_idt_load: fills the IDT (in .bss: a gate splits the handler address into three
;   pieces, which no relocation can express, so the table cannot be static) and loads it.
;   Needs a stack. Clobbers rax, rcx, rdx, rsi, rdi. Every vCPU may run it: they all write the
;   same bytes.
; Each exception: the stub pushes a dummy error code where the CPU pushes none, then the vector;
;   the common handler sends an EXCEPTION record (vector, error code, RIP, CR2; a text line on
;   0xE9 under other hosts), writes EN_EXIT_EXCEPTION_BASE + vector to port 0xF4 and halts.
;   A #VE is reported with what the TDX module says of it first: TDG.VP.VEINFO.GET's exit
;   reason, exit qualification, GLA and GPA as VALUE records `#VE.exit_reason`, … (the
;   #VE's cause lives only there: the exception has no error code and leaves CR2 alone).
;   The TDCALL is the interface library's (tdx.asm), referenced weakly: an image that never
;   speaks TDX carries no TDX request site for this, and reports the #VE without VE info.
;   No TSS/IST: a fault that breaks the stack itself ends as a triple fault (shutdown).
; en_exception_hooks: 32 qwords, one per vector, zero by default. A stub that expects an
;   exception (a #VE it handles by accepting the page, a #VC it counts) stores a handler there:
;   hook(rdi = vector, rsi = error code, rdx = &interrupted RIP (then CS, RFLAGS, RSP, SS))
;   -> rax = 1 to resume the interrupted instruction, 0 to report and stop as usual. The
;   interrupted code's registers are kept (the common handler saves every volatile one; the
;   hook keeps rbx, rbp, r12-r15 as System V says).

%include "internal.inc"

global __enlighten_idt_load
global en_exception_hooks
extern __en_report
extern en_done
extern en_value
extern tdx_veinfo_get:weak              ; 0 unless the image links GuestStubs/abi/tdx.asm

; Frame the handler sees, from rsp upwards.
FRAME_VECTOR    equ 0
FRAME_ERROR     equ 8
FRAME_RIP       equ 16                  ; then CS, RFLAGS, RSP, SS, pushed by the CPU

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
TDX_SUCCESS     equ 0

section .rodata progbits alloc noexec nowrite align=1
ve_exit_reason:         db "#VE.exit_reason", 0
ve_exit_qualification:  db "#VE.exit_qualification", 0
ve_gla:                 db "#VE.gla", 0
ve_gpa:                 db "#VE.gpa", 0

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
.no_hook:
    pop rax
.report:
    cmp qword [rsp + FRAME_VECTOR], VECTOR_VE
    jne .record
    mov rax, tdx_veinfo_get
    test rax, rax
    jz .record
    call rax                            ; rcx exit reason, rdx qualification, r8 GLA, r9 GPA
    test rax, rax
    jnz .record                         ; no valid VE info: the record alone says #VE
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
