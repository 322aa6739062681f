; console.asm — text on port 0xE9, for hosts that are not Enlighten (QEMU -debugcon, Bochs).
;
; __en_record_text: renders a report as one line, e.g.
;     CHECK name pass actual=0x5 expected=0x5
;     CHECKSUM payload gpa=0x101000 length=0x2000 crc32c=0x1a2b3c4d
;   in:  the register contract of __en_report (record.asm). Clobbers caller-saved registers.
; __en_con_write: rdi = bytes, rsi = length. Clobbers the caller-saved registers. Raw `rep outsb`
;   where the platform allows port I/O, else one forwarded byte OUT each (portio.asm).

%include "internal.inc"

global __en_record_text
global __en_con_write
extern __en_strlen
extern __en_out8
extern __en_io_raw_mode

HEX_DIGITS_MAX  equ 16                  ; a 64-bit value
HEX_BUFFER_SIZE equ HEX_DIGITS_MAX + 8  ; "0x" + digits, rounded up to keep rsp aligned

; Per record type: a title, then the labels of fields a, b, c, d (0 = not shown).
FORMAT_SIZE     equ 5 * 8

section .rodata progbits alloc noexec nowrite align=8
formats:
    dq title_check,     label_actual, label_expected, 0,            0   ; CHECK (c = outcome)
    dq title_checksum,  label_gpa,    label_length,   label_crc,    0   ; CHECKSUM
    dq title_value,     label_value,  0,              0,            0   ; VALUE
    dq title_exception, label_vector, label_error,    label_rip,    label_cr2 ; EXCEPTION
    dq title_log,       0,            0,              0,            0   ; LOG: the text alone
%if $ - formats != FORMAT_SIZE * EN_RECORD_LOG
  %error one format per record type, in type order
%endif

title_check:        db "CHECK ", 0
title_checksum:     db "CHECKSUM ", 0
title_value:        db "VALUE ", 0
title_exception:    db "EXCEPTION", 0
title_log:          db 0
label_actual:       db " actual=", 0
label_expected:     db " expected=", 0
label_gpa:          db " gpa=", 0
label_length:       db " length=", 0
label_crc:          db " crc32c=", 0
label_value:        db " value=", 0
label_vector:       db " vector=", 0
label_error:        db " error=", 0
label_rip:          db " rip=", 0
label_cr2:          db " cr2=", 0
outcome_pass:       db " pass", 0
outcome_fail:       db " FAIL", 0
newline:            db 10

section .text progbits alloc exec nowrite align=16

__en_record_text:
    push rbx
    push r12
    push r13
    push r14
    push r15
    sub rsp, 4 * 8                      ; fields a..d, indexed by r15 below
    mov [rsp], rcx
    mov [rsp + 8], r8
    mov [rsp + 16], r9
    mov [rsp + 24], r10
    movzx ebx, dil
    mov r12, rsi
    mov r13, rdx

    lea r14, [rel formats]
    imul eax, ebx, FORMAT_SIZE
    lea r14, [r14 + rax - FORMAT_SIZE]  ; types start at 1
    mov rdi, [r14]
    call con_cstr
    mov rdi, r12
    mov rsi, r13
    call __en_con_write

    cmp ebx, EN_RECORD_CHECK
    jne .fields
    lea rdi, [rel outcome_pass]
    lea rax, [rel outcome_fail]
    cmp qword [rsp + 16], 0             ; c = outcome
    cmove rdi, rax
    call con_cstr

.fields:
    xor r15d, r15d
.field:
    mov rdi, [r14 + 8 + r15 * 8]
    test rdi, rdi
    jz .next_field
    call con_cstr
    mov rdi, [rsp + r15 * 8]
    call con_hex
.next_field:
    inc r15d
    cmp r15d, 4
    jb .field

    lea rdi, [rel newline]
    mov esi, 1
    call __en_con_write
    add rsp, 4 * 8
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    ret

__en_con_write:
    push rbx
    push r12
    push r13
    mov rbx, rdi
    mov r12, rsi
    call __en_io_raw_mode
    jne .bytes
    mov rcx, r12
    mov rsi, rbx
    mov edx, EN_PORT_DEBUGCON
    rep outsb                           ; KVM: one exit for the whole line
    jmp .done
.bytes:                                 ; SNP/TDX: one protocol request a byte (portio.asm)
    test r12, r12
    jz .done
    movzx esi, byte [rbx]
    mov edi, EN_PORT_DEBUGCON
    call __en_out8
    inc rbx
    dec r12
    jmp .bytes
.done:
    pop r13
    pop r12
    pop rbx
    ret

; rdi = NUL-terminated string.
con_cstr:
    call __en_strlen
    mov rsi, rax
    jmp __en_con_write

; rdi = value, written as 0x and the fewest hex digits (at least one).
con_hex:
    sub rsp, HEX_BUFFER_SIZE
    lea rsi, [rsp + HEX_BUFFER_SIZE]    ; digits are produced last to first
    mov rcx, rsi
.digit:
    mov eax, edi
    and eax, 0xF
    add eax, '0'
    cmp eax, '9'
    jbe .store
    add eax, 'a' - '9' - 1
.store:
    dec rcx
    mov [rcx], al
    shr rdi, 4
    jnz .digit
    sub rcx, 2
    mov word [rcx], '0x'
    mov rdi, rcx
    sub rsi, rcx
    call __en_con_write
    add rsp, HEX_BUFFER_SIZE
    ret
