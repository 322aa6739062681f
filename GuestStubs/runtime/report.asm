; report.asm — the report routines a stub calls (docs/writing-stubs.md), System V ABI.
;
;   en_log      rdi = text, rsi = length                      one LOG line
;   en_check    rdi = name (NUL-terminated), rsi = actual,
;               rdx = expected                  -> eax 1/0    CHECK, pass when equal
;   en_value    rdi = name, rsi = value                       VALUE
;   en_checksum rdi = name, rsi = GPA, rdx = length -> eax    CRC32C of the range, CHECKSUM
;   en_done     edi = exit code                               port 0xF4, then halt; no return
;               (__en_done_raw: the same by a raw OUT, for a vCPU without a stack)
; Port I/O goes through portio.asm (GHCB IOIO on SEV-SNP, TDVMCALL IO on TDX, raw elsewhere).
; Each sends one record through __en_report (record.asm), or a text line on 0xE9 when the host
; is not Enlighten. A name or log line longer than 255 bytes is cut to 255 in the record.

%include "internal.inc"

global en_log
global en_check
global en_value
global en_checksum
global en_done
global __en_done_raw
extern en_crc32c
extern __en_report
extern __en_strlen
extern __en_out32

section .text progbits alloc exec nowrite align=16

en_log:
    mov rdx, rsi
    mov rsi, rdi
    mov edi, EN_RECORD_LOG
    xor ecx, ecx
    jmp report_without_bcd

en_value:
    mov rcx, rsi                        ; a = the value
    mov esi, EN_RECORD_VALUE
    jmp report_named_a

en_check:
    push rbx
    xor ebx, ebx
    cmp rsi, rdx
    sete bl
    mov rcx, rsi                        ; a = actual
    mov r8, rdx                         ; b = expected
    mov r9, rbx                         ; c = outcome
    xor r10d, r10d
    mov esi, EN_RECORD_CHECK
    call report_named
    mov eax, ebx
    pop rbx
    ret

en_checksum:
    push rbx
    push r12
    push r13
    mov rbx, rdi
    mov r12, rsi
    mov r13, rdx
    mov rdi, rsi
    mov rsi, rdx
    call en_crc32c
    mov rdi, rbx
    mov rcx, r12                        ; a = GPA (identity-mapped: the address is the GPA)
    mov r8, r13                         ; b = length
    mov ebx, eax
    mov r9, rax                         ; c = CRC32C
    xor r10d, r10d
    mov esi, EN_RECORD_CHECKSUM
    call report_named
    mov eax, ebx
    pop r13
    pop r12
    pop rbx
    ret

en_done:
    mov esi, edi
    mov edi, EN_PORT_EXIT
    call __en_out32                     ; the platform's way (portio.asm)
    jmp __en_halt
; __en_done_raw(edi = exit code): en_done without a stack, by a raw OUT (entry.asm's vCPU
; beyond the runtime's stacks: it has no GHCB either).
__en_done_raw:
    mov eax, edi
    mov edx, EN_PORT_EXIT
    out dx, eax
__en_halt:                                  ; a host that does not stop the vCPU on 0xF4 parks here
    cli
    hlt
    jmp __en_halt

; rdi = NUL-terminated name, esi = type, rcx = a: b, c, d are 0.
report_named_a:
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
; rdi = NUL-terminated name, esi = type, rcx..r10 = a..d.
report_named:
    call __en_strlen
    mov rdx, rax
    xchg rsi, rdi                       ; rsi = name, edi = type
    jmp __en_report

; edi = type, rsi/rdx = text, rcx = a: b, c, d are 0.
report_without_bcd:
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    jmp __en_report
