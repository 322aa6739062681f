; crc32c.asm — en_crc32c: CRC32C (Castagnoli; reflected polynomial 0x82F63B78, initial value
; and final xor 0xFFFFFFFF), the checksum CHECKSUM records carry.
;
;   in:  rdi = address, rsi = length in bytes      out: eax = CRC32C
;   Clobbers rcx, rdx, rsi, rdi, r8 (System V caller-saved).
;
; Two paths with the same result:
; - hardware: the SSE4.2 `crc32` instruction, 8 bytes a step, when CPUID.1:ECX[20] has it
;   (it needs no CR4.OSFXSR: it works on general registers);
; - software: one byte a step through a 256-entry table the assembler computes.
; In the firmware layout under a host that is not Enlighten the software path is used even with
; SSE4.2: QEMU maps the ROM as a read-only memslot, and KVM on a PVM host then runs ROM code
; through its instruction emulator (~1.3 µs an instruction, measured), which has no `crc32`
; (the VM dies with "emulation failure"). Memory is read with plain `mov` on both paths.
; The choice is cached in __enlighten_crc32c_mode: CPUID costs a VM exit.

%include "internal.inc"

global en_crc32c
global __enlighten_crc32c_mode
extern __enlighten_host_present

CRC32C_POLY_REFLECTED equ 0x82F63B78
CRC32C_INIT           equ 0xFFFFFFFF    ; also the final xor (done with `not`)
MODE_UNKNOWN          equ 0
MODE_HARDWARE         equ 1
MODE_SOFTWARE         equ 2

section .bss nobits alloc noexec write align=1
__enlighten_crc32c_mode:   resb 1       ; MODE_*; a test may preset MODE_SOFTWARE

section .rodata progbits alloc noexec nowrite align=4
; table[b] = the CRC register after shifting byte b through it, eight bits one at a time.
crc32c_table:
%assign byte_value 0
%rep 256
  %assign crc byte_value
  %rep 8
    %if crc & 1
      %assign crc (crc >> 1) ^ CRC32C_POLY_REFLECTED
    %else
      %assign crc crc >> 1
    %endif
  %endrep
    dd crc
  %assign byte_value byte_value + 1
%endrep

section .text progbits alloc exec nowrite align=16

en_crc32c:
    movzx eax, byte [abs __enlighten_crc32c_mode]
    cmp eax, MODE_UNKNOWN
    jne .mode_known
    mov r8, rbx                         ; cpuid writes ebx, which System V preserves
    mov eax, EN_CPUID_FEATURES
    cpuid
    mov rbx, r8
    mov eax, MODE_SOFTWARE
    test ecx, EN_CPUID_ECX_SSE42
    jz .store_mode
%ifdef LAYOUT_FIRMWARE
    cmp byte [abs __enlighten_host_present], 0
    je .store_mode                      ; see the header: ROM code may be emulated
%endif
    mov eax, MODE_HARDWARE
.store_mode:
    mov [abs __enlighten_crc32c_mode], al
.mode_known:
    cmp eax, MODE_HARDWARE
    mov eax, CRC32C_INIT
    jne .software

.hardware_qwords:
    cmp rsi, 8
    jb .hardware_bytes
    mov rdx, [rdi]
    crc32 rax, rdx
    add rdi, 8
    sub rsi, 8
    jmp .hardware_qwords
.hardware_bytes:
    test rsi, rsi
    jz .done
    movzx edx, byte [rdi]
    crc32 eax, dl
    inc rdi
    dec rsi
    jmp .hardware_bytes

.software:
    lea r8, [rel crc32c_table]
.software_byte:
    test rsi, rsi
    jz .done
    movzx edx, byte [rdi]
    xor edx, eax
    movzx edx, dl                       ; table index: low byte of crc ^ data
    shr eax, 8
    xor eax, [r8 + rdx * 4]
    inc rdi
    dec rsi
    jmp .software_byte

.done:
    not eax
    ret
