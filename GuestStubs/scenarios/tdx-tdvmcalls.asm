; tdx-tdvmcalls.asm — the TDG.VP.VMCALL sub-functions a #VE handler forwards (TDX platform
; only), each served through the runner's devices and checked by the guest, with the GHCI
; statuses for bad operands.
;
; Expected values (GHCI; Linux arch/x86/kvm/vmx/tdx.c tdx_emulate_io, tdx_emulate_cpuid,
; tdx_emulate_mmio, tdx_complete_emulated_msr, tdx_get_td_vm_call_info; docs/abi.md §3.6):
;   Instruction.IO write (size 4) of a VALUE record's GPA to the record port 0xEA: R10 0, and
;   the host logs the record; writes of bytes to the debug console: a log line "tdx console";
;   read (size 1) from 0xEA: R11 = 0xE7; read (size 4) from an unknown port: R11 = 0xFFFFFFFF.
;   RDMSR / WRMSR of an MSR nobody emulates: INVALID_OPERAND (0x8000000000000000).
;   Instruction.CPUID leaf 0: R12-R15 = what raw CPUID gives.
;   #VE.RequestMMIO read of 8 bytes at a shared GPA no memslot covers: R10 0, R11 all ones; at
;   the same GPA without the shared bit: INVALID_OPERAND.
;   #VE.RequestMMIO write, then read, of 8 bytes at a shared RAM page (shared bit set): KVM
;   strips the bit and hands both to the VMM (KVM_EXIT_MMIO), whose device model reads and
;   writes RAM at a GPA that is RAM (QEMU address_space_rw, its shared memory): R10 0 for
;   both, the written value lands in the page, the read's R11 is what the guest stored
;   there through its shared view.
;   GetTdVmCallInfo leaf 0: R10 0, R11-R14 0.
;   Instruction.IO with size 3, or direction 2: INVALID_OPERAND.
;   (Instruction.HLT is left out: KVM halts the vCPU until an interrupt, which nothing here
;   raises — TDVMCallServiceTests covers it.)
;
; Records: CHECK tdx.platform, tdvmcall.out_record.r10 (0), VALUE forwarded.record (0x544458),
; tdvmcall.out_console.r10 (0), tdvmcall.in_record.r11, tdvmcall.in_unknown.r11,
; tdvmcall.rdmsr.r10, tdvmcall.wrmsr.r10, tdvmcall.cpuid_0.eax/ebx/ecx/edx,
; tdvmcall.mmio_read.r10/r11, tdvmcall.mmio_private.r10, tdvmcall.mmio_ram_write.r10,
; tdvmcall.mmio_ram_write.landed, tdvmcall.mmio_ram_read.r10/r11, tdvmcall.info.r10/r11/r12,
; tdvmcall.io_size_3.r10, tdvmcall.io_direction_2.r10.

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"
%include "nae.inc"

RECORD_VALUE    equ 0x544458            ; "XDT"
UNKNOWN_PORT    equ 0x1234
UNKNOWN_MSR     equ 0x4000_1234
IO_READ         equ 0
IO_WRITE        equ 1
RAM_PAGE        equ 0x400000            ; shared from launch: #VE.RequestMMIO's RAM target
RAM_READ_OFFSET equ 8
RAM_WRITTEN     equ 0x4D4D_494F_5752_4954   ; what the MMIO write stores
RAM_MARKER      equ 0x4D4D_494F_5245_4144   ; what the guest stores for the MMIO read

PLAN_RANGE RAM_PAGE, RAM_PAGE + EN_PAGE_SIZE, PLAN_SHARED, PLAN_SHARED_START, "mmio-ram"

section .rodata
console_text:   db "tdx console", 10
console_length  equ $ - console_text

section .text

; io(rdi = size, rsi = direction, rdx = port, rcx = value) -> rax = R10, rdx = R11
io:
    mov r8, rcx
    mov rcx, rdx
    mov rdx, rsi
    mov rsi, rdi
    mov edi, TDVMCALL_IO
    jmp tdx_vmcall

scenario:
    REQUIRE_PLATFORM EN_PLATFORM_TDX, "tdx.platform"

    mov edi, RECORD_VALUE
    call build_record
    mov rcx, rax
    mov edi, 4
    mov esi, IO_WRITE
    mov edx, EN_PORT_RECORD
    call io
    EXPECT "tdvmcall.out_record.r10", rax, 0

    xor r15d, r15d
.console:
    lea rax, [rel console_text]
    movzx ecx, byte [rax + r15]
    mov edi, 1
    mov esi, IO_WRITE
    mov edx, EN_PORT_DEBUGCON
    call io
    mov r14, rax
    inc r15
    cmp r15, console_length
    jb .console
    EXPECT "tdvmcall.out_console.r10", r14, 0

    mov edi, 1
    mov esi, IO_READ
    mov edx, EN_PORT_RECORD
    xor ecx, ecx
    call io
    EXPECT "tdvmcall.in_record.r11", rdx, EN_HOST_PRESENT

    mov edi, 4
    mov esi, IO_READ
    mov edx, UNKNOWN_PORT
    xor ecx, ecx
    call io
    mov r14d, 0xFFFFFFFF
    EXPECT "tdvmcall.in_unknown.r11", rdx, r14

    mov r14, TDVMCALL_STATUS_INVALID_OPERAND
    mov edi, TDVMCALL_RDMSR
    mov esi, UNKNOWN_MSR
    xor edx, edx
    xor ecx, ecx
    xor r8d, r8d
    call tdx_vmcall
    EXPECT "tdvmcall.rdmsr.r10", rax, r14
    mov edi, TDVMCALL_WRMSR
    mov esi, UNKNOWN_MSR
    mov edx, 1
    xor ecx, ecx
    xor r8d, r8d
    call tdx_vmcall
    EXPECT "tdvmcall.wrmsr.r10", rax, r14

    ; CPUID leaf 0 forwarded, then raw: the same four registers.
    mov edi, TDVMCALL_CPUID
    xor esi, esi
    xor edx, edx
    xor ecx, ecx
    xor r8d, r8d
    call tdx_vmcall
    xor eax, eax
    xor ecx, ecx
    cpuid
    mov r12d, eax
    mov r13d, ebx
    mov r14d, ecx
    mov r15d, edx
    EXPECT "tdvmcall.cpuid_0.eax", qword [abs tdx_vmcall_out], r12
    EXPECT "tdvmcall.cpuid_0.ebx", qword [abs tdx_vmcall_out + 8], r13
    EXPECT "tdvmcall.cpuid_0.ecx", qword [abs tdx_vmcall_out + 16], r14
    EXPECT "tdvmcall.cpuid_0.edx", qword [abs tdx_vmcall_out + 24], r15

    ; #VE.RequestMMIO read where no RAM is, through the shared bit, then without it.
    call tdx_shared_bit
    mov r15, EN_UNBACKED_GPA
    or r15, rax
    mov edi, TDVMCALL_REQUEST_MMIO
    mov esi, 8
    mov edx, IO_READ
    mov rcx, r15
    xor r8d, r8d
    call tdx_vmcall
    mov r12, rdx
    mov r14, -1
    EXPECT "tdvmcall.mmio_read.r10", rax, 0
    EXPECT "tdvmcall.mmio_read.r11", r12, r14
    mov edi, TDVMCALL_REQUEST_MMIO
    mov esi, 8
    mov edx, IO_READ
    mov rcx, EN_UNBACKED_GPA
    xor r8d, r8d
    call tdx_vmcall
    mov r14, TDVMCALL_STATUS_INVALID_OPERAND
    EXPECT "tdvmcall.mmio_private.r10", rax, r14

    ; #VE.RequestMMIO write, then read, at a shared RAM page: the VMM reads and writes RAM.
    mov edi, RAM_PAGE
    call en_shared_alias
    mov rbx, rax                        ; the page's shared view
    mov rax, RAM_MARKER
    mov [rbx + RAM_READ_OFFSET], rax
    call tdx_shared_bit
    mov r15, rax
    mov edi, TDVMCALL_REQUEST_MMIO
    mov esi, 8
    mov edx, IO_WRITE
    mov rcx, r15
    or rcx, RAM_PAGE
    mov r8, RAM_WRITTEN
    call tdx_vmcall
    EXPECT "tdvmcall.mmio_ram_write.r10", rax, 0
    mov r14, RAM_WRITTEN
    EXPECT "tdvmcall.mmio_ram_write.landed", [rbx], r14
    mov edi, TDVMCALL_REQUEST_MMIO
    mov esi, 8
    mov edx, IO_READ
    mov rcx, r15
    or rcx, RAM_PAGE + RAM_READ_OFFSET
    xor r8d, r8d
    call tdx_vmcall
    mov r12, rdx
    mov r14, RAM_MARKER
    EXPECT "tdvmcall.mmio_ram_read.r10", rax, 0
    EXPECT "tdvmcall.mmio_ram_read.r11", r12, r14

    ; GetTdVmCallInfo leaf 0.
    mov edi, TDVMCALL_GET_TD_VM_CALL_INFO
    xor esi, esi
    mov edx, 0x55                       ; R13 on the way in: the answer zeroes it
    xor ecx, ecx
    xor r8d, r8d
    call tdx_vmcall
    mov r12, rdx
    EXPECT "tdvmcall.info.r10", rax, 0
    EXPECT "tdvmcall.info.r11", r12, 0
    EXPECT "tdvmcall.info.r13", qword [abs tdx_vmcall_out + 8], 0

    ; Bad operands.
    mov r14, TDVMCALL_STATUS_INVALID_OPERAND
    mov edi, 3
    mov esi, IO_WRITE
    mov edx, EN_PORT_DEBUGCON
    mov ecx, '!'
    call io
    EXPECT "tdvmcall.io_size_3.r10", rax, r14
    mov edi, 1
    mov esi, 2
    mov edx, EN_PORT_DEBUGCON
    mov ecx, '!'
    call io
    EXPECT "tdvmcall.io_direction_2.r10", rax, r14
    ret
