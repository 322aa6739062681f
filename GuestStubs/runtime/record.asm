; record.asm — builds one report record on the stack and hands the host its address.
;
; __en_report: the single way the runtime reports anything. Under an Enlighten host it sends a
;   record (docs/report-protocol.md); under any other VMM it renders the same fields as one
;   text line on port 0xE9 (console.asm).
;   in:  dil = record type, rsi = name, rdx = name length (cut to 255),
;        rcx = a, r8 = b, r9 = c, r10 = d.   Clobbers the System V caller-saved registers.
; __en_strlen: rdi = NUL-terminated string -> rax = its length. Touches nothing but rax,
;   so callers may keep record fields in rcx/r8/r9/r10 across it.

%include "internal.inc"

global __en_report
global __en_strlen
extern __enlighten_host_present
extern __en_record_text
extern __en_out32

; Field offsets within a record.
RECORD_MAGIC        equ 0
RECORD_TYPE         equ 4
RECORD_NAME_LENGTH  equ 5
RECORD_TOTAL_LENGTH equ 6
RECORD_A            equ 8
RECORD_B            equ 16
RECORD_C            equ 24
RECORD_D            equ 32
RECORD_NAME         equ EN_RECORD_HEADER_SIZE
RECORD_BUFFER_SIZE  equ EN_RECORD_HEADER_SIZE + EN_RECORD_NAME_MAX + 1
%if RECORD_NAME != RECORD_D + 8
  %error record header layout disagrees with EN_RECORD_HEADER_SIZE
%endif

section .text progbits alloc exec nowrite align=16

__en_report:
    cmp byte [abs __enlighten_host_present], 0
    je __en_record_text

    ; The record lives on this vCPU's stack: RAM below 4 GiB, identity-mapped, so its
    ; virtual address is the GPA the host reads.
    push rbp
    mov rbp, rsp
    sub rsp, RECORD_BUFFER_SIZE
    and rsp, -16
    mov dword [rsp + RECORD_MAGIC], EN_RECORD_MAGIC
    mov [rsp + RECORD_TYPE], dil
    mov eax, EN_RECORD_NAME_MAX
    cmp rdx, rax
    cmova rdx, rax
    mov [rsp + RECORD_NAME_LENGTH], dl
    lea eax, [rdx + EN_RECORD_HEADER_SIZE]
    mov [rsp + RECORD_TOTAL_LENGTH], ax
    mov [rsp + RECORD_A], rcx
    mov [rsp + RECORD_B], r8
    mov [rsp + RECORD_C], r9
    mov [rsp + RECORD_D], r10
    lea rdi, [rsp + RECORD_NAME]
    mov rcx, rdx
    rep movsb
    mov esi, esp                        ; below 4 GiB: the dword is the whole GPA
    mov edi, EN_PORT_RECORD
    call __en_out32                     ; one exit; the host reads the record from guest memory
    leave
    ret

__en_strlen:
    xor eax, eax
.next:
    cmp byte [rdi + rax], 0
    je .done
    inc rax
    jmp .next
.done:
    ret
