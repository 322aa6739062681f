; ghcb-nae-events.asm — the GHCB NAE events a #VC handler forwards (SNP platform only), each
; served through the runner's devices and checked by the guest, and their malformed forms.
;
; Expected values (GHCB specification §4.1 and Table 7; Linux arch/x86/kvm/svm/sev.c
; sev_es_validate_vmgexit / sev_handle_vmgexit; docs/abi.md §2.6–2.7):
;   IOIO OUT (size 4) of a VALUE record's GPA to the record port 0xEA: SW_EXITINFO1 0, and the
;   host logs the record; OUT bytes to the debug console 0xE9: a log line "nae console";
;   IN (size 1) from 0xEA merges the presence byte 0xE7 into RAX's low byte (x86.c
;   complete_fast_pio_in); IN (size 4) from an unknown port: 0xFFFFFFFF (floating bus);
;   REP OUTSB through the scratch area (the GHCB's shared buffer, count in SW_EXITINFO2):
;   a log line "nae rep outsb".
;   MSR read of an MSR nobody emulates: SW_EXITINFO1 1, SW_EXITINFO2 0x8000030D (#GP; svm.c
;   svm_complete_emulated_msr).
;   CPUID leaf 0: the four registers raw CPUID gives; leaf 0xD.0 with XCR0 = 1 (x87, the reset
;   value): EBX = raw CPUID's EBX (the XSAVE size of XCR0's components, 576).
;   MMIO read of 8 bytes at a GPA no memslot covers: all ones in the scratch area.
;   MMIO write, then read, of 8 bytes at a shared RAM page: KVM hands both to the VMM
;   (x86.c kvm_sev_es_mmio_write/read), whose device model reads and writes RAM at a GPA
;   that is RAM (QEMU address_space_rw): the written bytes land in the page, the read
;   returns what the guest wrote there through its shared view; SW_EXITINFO1 0 for both.
;   MSR-protocol CPUID request for leaf 0 EBX: response code 0x005 and raw CPUID's EBX in
;   GHCBData[63:32].
;   Malformed (SW_EXITINFO1 2): OUT without RAX valid → 4 (MISSING_INPUT); REP OUTSB with a
;   scratch inside the GHCB but before its shared buffer → 3 (INVALID_SCRATCH_AREA); an IOIO
;   size field that is none of 1, 2, 4 → 5 (INVALID_INPUT; Enlighten's check, KVM passes
;   the size on unchecked).
;
; Records: CHECK ghcb.platform, ghcb.init, nae.out_record.exitinfo1 (0), VALUE
; forwarded.record (0x4E4145), nae.out_console.exitinfo1 (0), nae.in_record.rax,
; nae.in_unknown.rax, nae.rep_outsb.exitinfo1 (0), nae.msr_unknown.exitinfo1/2,
; nae.cpuid_0.eax/ebx/ecx/edx, nae.cpuid_d.ebx, nae.mmio_read.exitinfo1 (0), nae.mmio_read.data,
; nae.mmio_ram_write.exitinfo1 (0), nae.mmio_ram_write.landed, nae.mmio_ram_read.exitinfo1 (0),
; nae.mmio_ram_read.data,
; nae.msr_cpuid.code, nae.msr_cpuid.ebx, nae.no_rax.exitinfo1/2, nae.scratch_outside.exitinfo1/2,
; nae.bad_size.exitinfo1/2.

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "nae.inc"

RECORD_VALUE    equ 0x4E4145            ; "EAN"
UNKNOWN_PORT    equ 0x1234
UNKNOWN_MSR     equ 0x4000_1234         ; in KVM's hypervisor range, but no MSR of KVM's
PORT_INFO       equ IOIO_ADDR_64
OUT_RECORD      equ (EN_PORT_RECORD << IOIO_PORT_SHIFT) | IOIO_DATA_32 | PORT_INFO
OUT_CONSOLE     equ (EN_PORT_DEBUGCON << IOIO_PORT_SHIFT) | IOIO_DATA_8 | PORT_INFO
IN_RECORD       equ (EN_PORT_RECORD << IOIO_PORT_SHIFT) | IOIO_TYPE_IN | IOIO_DATA_8 | PORT_INFO
IN_UNKNOWN      equ (UNKNOWN_PORT << IOIO_PORT_SHIFT) | IOIO_TYPE_IN | IOIO_DATA_32 | PORT_INFO
REP_OUTSB       equ OUT_CONSOLE | IOIO_STR | IOIO_REP
BAD_SIZE        equ (EN_PORT_DEBUGCON << IOIO_PORT_SHIFT) | (3 << 4) | PORT_INFO   ; bits 6:4 = 3
RAX_BEFORE      equ 0x1122334455667700
SCRATCH         equ ghcb_page + GHCB_SHARED_BUFFER      ; vCPU 0's GHCB (the scenario runs on one)
BAD_SCRATCH     equ ghcb_page + 0x100   ; inside the GHCB page, before its shared buffer
XCR0_X87        equ 1
RAM_PAGE        equ 0x400000            ; shared from launch: the MMIO events' RAM target
RAM_READ_OFFSET equ 8
RAM_WRITTEN     equ 0x4D4D_494F_5752_4954   ; what the MMIO write stores
RAM_MARKER      equ 0x4D4D_494F_5245_4144   ; what the guest stores for the MMIO read

PLAN_RANGE RAM_PAGE, RAM_PAGE + EN_PAGE_SIZE, PLAN_SHARED, PLAN_SHARED_START, "mmio-ram"
XSAVE_LEGACY_AND_HEADER equ 576

section .rodata
console_text:   db "nae console", 10
console_length  equ $ - console_text
rep_text:       db "nae rep outsb", 10
rep_length      equ $ - rep_text

section .text

; begin(rdi = exit code, rsi = SW_EXITINFO1, rdx = SW_EXITINFO2) -> rbx = the GHCB (shared
; view), those three set and valid, every other valid bit clear.
begin:
    push rdi
    push rsi
    push rdx
    call ghcb_nae_prepare
    pop rdx
    pop rsi
    pop rdi
    mov rbx, rax
    mov [rbx + GHCB_SW_EXIT_CODE], rdi
    mov [rbx + GHCB_SW_EXIT_INFO_1], rsi
    mov [rbx + GHCB_SW_EXIT_INFO_2], rdx
    or byte [rbx + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_EXIT_CODE | GHCB_VALID_SW_EXIT_INFO_1 | GHCB_VALID_SW_EXIT_INFO_2
    ret

; send() -> r12 = SW_EXITINFO1, r13 = SW_EXITINFO2
send:
    call ghcb_nae_send
    mov r12, rax
    mov r13, rdx
    ret

; out_byte(dil = byte): IOIO OUT of one byte to the debug console.
out_byte:
    movzx r14d, dil
    mov edi, SVM_EXIT_IOIO
    mov esi, OUT_CONSOLE
    xor edx, edx
    call begin
    mov [rbx + GHCB_RAX], r14
    or byte [rbx + GHCB_VALID_RAX_BYTE], GHCB_VALID_RAX
    jmp send

; cpuid_event(rdi = leaf, rsi = xcr0 or 0 for none): the CPUID event with ECX = 0.
cpuid_event:
    push rsi
    mov r14, rdi
    mov edi, SVM_EXIT_CPUID
    xor esi, esi
    xor edx, edx
    call begin
    pop rsi
    mov [rbx + GHCB_RAX], r14
    mov qword [rbx + GHCB_RCX], 0
    or byte [rbx + GHCB_VALID_RAX_BYTE], GHCB_VALID_RAX
    or byte [rbx + GHCB_VALID_RCX_BYTE], GHCB_VALID_RCX
    test rsi, rsi
    jz send
    mov [rbx + GHCB_XCR0], rsi
    or byte [rbx + GHCB_VALID_XCR0_BYTE], GHCB_VALID_XCR0
    jmp send

scenario:
    REQUIRE_GHCB

    ; OUT of a VALUE record's GPA to the record port: the host reads and logs the record.
    mov edi, RECORD_VALUE
    call build_record
    mov r14, rax
    mov edi, SVM_EXIT_IOIO
    mov esi, OUT_RECORD
    xor edx, edx
    call begin
    mov [rbx + GHCB_RAX], r14
    or byte [rbx + GHCB_VALID_RAX_BYTE], GHCB_VALID_RAX
    call send
    EXPECT "nae.out_record.exitinfo1", r12, 0

    ; OUT of each byte of a line to the debug console.
    xor r15d, r15d
.console:
    lea rax, [rel console_text]
    movzx edi, byte [rax + r15]
    call out_byte
    inc r15
    cmp r15, console_length
    jb .console
    EXPECT "nae.out_console.exitinfo1", r12, 0

    ; IN from the record port: the presence byte, merged into RAX.
    mov edi, SVM_EXIT_IOIO
    mov esi, IN_RECORD
    xor edx, edx
    call begin
    mov rax, RAX_BEFORE
    mov [rbx + GHCB_RAX], rax
    or byte [rbx + GHCB_VALID_RAX_BYTE], GHCB_VALID_RAX
    call send
    mov r14, RAX_BEFORE | EN_HOST_PRESENT
    EXPECT "nae.in_record.rax", qword [rbx + GHCB_RAX], r14

    ; IN from a port nobody decodes: all ones.
    mov edi, SVM_EXIT_IOIO
    mov esi, IN_UNKNOWN
    xor edx, edx
    call begin
    call send
    mov r14d, 0xFFFFFFFF
    EXPECT "nae.in_unknown.rax", qword [rbx + GHCB_RAX], r14

    ; REP OUTSB through the scratch area: the line is in the GHCB's shared buffer.
    mov edi, SVM_EXIT_IOIO
    mov esi, REP_OUTSB
    mov edx, rep_length
    call begin
    lea rsi, [rel rep_text]
    lea rdi, [rbx + GHCB_SHARED_BUFFER]
    mov ecx, rep_length
    rep movsb
    mov qword [rbx + GHCB_SW_SCRATCH], SCRATCH
    or byte [rbx + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_SCRATCH
    call send
    EXPECT "nae.rep_outsb.exitinfo1", r12, 0

    ; RDMSR of an MSR nobody emulates: the #GP answer.
    mov edi, SVM_EXIT_MSR
    xor esi, esi
    xor edx, edx
    call begin
    mov qword [rbx + GHCB_RCX], UNKNOWN_MSR
    or byte [rbx + GHCB_VALID_RCX_BYTE], GHCB_VALID_RCX
    call send
    EXPECT "nae.msr_unknown.exitinfo1", r12, GHCB_HV_RESP_ISSUE_EXCEPTION
    EXPECT "nae.msr_unknown.exitinfo2", r13, GHCB_INJECT_GP

    ; CPUID leaf 0 through the GHCB, then raw: the same four registers.
    xor edi, edi
    xor esi, esi
    call cpuid_event
    push qword [rbx + GHCB_RAX]
    push qword [rbx + GHCB_RBX]
    push qword [rbx + GHCB_RCX]
    push qword [rbx + GHCB_RDX]
    xor eax, eax
    xor ecx, ecx
    cpuid
    mov r12d, eax
    mov r13d, ebx
    mov r14d, ecx
    mov r15d, edx
    pop rdx
    pop rcx
    pop rbx
    pop rax
    EXPECT "nae.cpuid_0.eax", rax, r12
    EXPECT "nae.cpuid_0.ebx", rbx, r13
    EXPECT "nae.cpuid_0.ecx", rcx, r14
    EXPECT "nae.cpuid_0.edx", rdx, r15

    ; CPUID 0xD.0 with XCR0 = x87 (the reset value, which this guest never changes): EBX is
    ; the XSAVE size for XCR0, as raw CPUID says.
    mov edi, 0xD
    mov esi, XCR0_X87
    call cpuid_event
    mov r12, [rbx + GHCB_RBX]
    mov eax, 0xD
    xor ecx, ecx
    cpuid
    mov r13d, ebx
    EXPECT "nae.cpuid_d.ebx", r12, r13
    EXPECT "nae.cpuid_d.ebx_x87", r12, XSAVE_LEGACY_AND_HEADER

    ; MMIO read of 8 bytes where no RAM is: all ones into the scratch area.
    mov edi, SVM_VMGEXIT_MMIO_READ
    mov rsi, EN_UNBACKED_GPA
    mov edx, 8
    call begin
    mov qword [rbx + GHCB_SHARED_BUFFER], 0
    mov qword [rbx + GHCB_SW_SCRATCH], SCRATCH
    or byte [rbx + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_SCRATCH
    call send
    EXPECT "nae.mmio_read.exitinfo1", r12, 0
    mov r14, -1
    EXPECT "nae.mmio_read.data", qword [rbx + GHCB_SHARED_BUFFER], r14

    ; MMIO write, then read, of 8 bytes at a shared RAM page: the VMM reads and writes RAM.
    mov edi, RAM_PAGE
    call en_shared_alias
    mov r15, rax                        ; the page's shared view
    mov rax, RAM_MARKER
    mov [r15 + RAM_READ_OFFSET], rax
    mov edi, SVM_VMGEXIT_MMIO_WRITE
    mov esi, RAM_PAGE
    mov edx, 8
    call begin
    mov rax, RAM_WRITTEN
    mov [rbx + GHCB_SHARED_BUFFER], rax
    mov qword [rbx + GHCB_SW_SCRATCH], SCRATCH
    or byte [rbx + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_SCRATCH
    call send
    EXPECT "nae.mmio_ram_write.exitinfo1", r12, 0
    mov r14, RAM_WRITTEN
    EXPECT "nae.mmio_ram_write.landed", [r15], r14
    mov edi, SVM_VMGEXIT_MMIO_READ
    mov esi, RAM_PAGE + RAM_READ_OFFSET
    mov edx, 8
    call begin
    mov qword [rbx + GHCB_SHARED_BUFFER], 0
    mov qword [rbx + GHCB_SW_SCRATCH], SCRATCH
    or byte [rbx + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_SCRATCH
    call send
    EXPECT "nae.mmio_ram_read.exitinfo1", r12, 0
    mov r14, RAM_MARKER
    EXPECT "nae.mmio_ram_read.data", qword [rbx + GHCB_SHARED_BUFFER], r14

    ; The MSR protocol's CPUID request: leaf 0, EBX.
    mov rdi, (1 << GHCB_MSR_CPUID_REG_SHIFT) | GHCB_MSR_CPUID_REQ     ; function 0 in [63:32]
    call ghcb_msr_call
    mov r12, rax
    and r12d, GHCB_MSR_INFO_MASK
    shr rax, 32
    mov r14, rax
    xor eax, eax
    xor ecx, ecx
    cpuid
    mov r13d, ebx
    EXPECT "nae.msr_cpuid.code", r12, GHCB_MSR_CPUID_RESP
    EXPECT "nae.msr_cpuid.ebx", r14, r13

    ; Malformed: OUT without RAX marked valid.
    mov edi, SVM_EXIT_IOIO
    mov esi, OUT_CONSOLE
    xor edx, edx
    call begin
    mov qword [rbx + GHCB_RAX], '!'
    call send
    EXPECT "nae.no_rax.exitinfo1", r12, GHCB_HV_RESP_MALFORMED_INPUT
    EXPECT "nae.no_rax.exitinfo2", r13, GHCB_ERR_MISSING_INPUT

    ; Malformed: a string scratch area in the GHCB page but outside its shared buffer.
    mov edi, SVM_EXIT_IOIO
    mov esi, REP_OUTSB
    mov edx, 4
    call begin
    mov qword [rbx + GHCB_SW_SCRATCH], BAD_SCRATCH
    or byte [rbx + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_SCRATCH
    call send
    EXPECT "nae.scratch_outside.exitinfo1", r12, GHCB_HV_RESP_MALFORMED_INPUT
    EXPECT "nae.scratch_outside.exitinfo2", r13, GHCB_ERR_INVALID_SCRATCH_AREA

    ; Malformed: an IOIO size field of 3.
    mov edi, SVM_EXIT_IOIO
    mov esi, BAD_SIZE
    xor edx, edx
    call begin
    mov qword [rbx + GHCB_RAX], '!'
    or byte [rbx + GHCB_VALID_RAX_BYTE], GHCB_VALID_RAX
    call send
    EXPECT "nae.bad_size.exitinfo1", r12, GHCB_HV_RESP_MALFORMED_INPUT
    EXPECT "nae.bad_size.exitinfo2", r13, GHCB_ERR_INVALID_INPUT
    ret
