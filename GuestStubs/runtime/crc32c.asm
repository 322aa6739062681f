; crc32c.asm — en_crc32c: CRC32C (Castagnoli; reflected polynomial 0x82F63B78, initial value
; and final xor 0xFFFFFFFF), the checksum CHECKSUM records carry.
;
;   in:  rdi = address, rsi = length in bytes      out: eax = CRC32C
;   Clobbers rcx, rdx, rsi, rdi, r8 (System V caller-saved).
;
; Two paths with the same result:
; - hardware: the SSE4.2 `crc32` instruction, 8 bytes a step, when CPUID.1:ECX[20] has it
;   (it needs no CR4.OSFXSR: it works on general registers), the last 0-7 bytes by table;
; - software: slicing-by-8, eight 256-entry tables the assembler computes (8 KiB of .rodata),
;   then one byte a step for the tail. Instruction count is what matters on an emulating
;   backend: about 3 instructions a byte, a third of a byte-at-a-time table loop.
; The hardware path also needs the CPU to really execute guest code. KVM backends that run
; guest code through KVM's instruction emulator (kvm_pvm on our machines runs every guest
; instruction that way, ~1.5 µs each) cannot execute `crc32`: the VM dies with "emulation
; failure". CPUID does not tell: there the guest sees SSE4.2 even when the VMM's
; KVM_SET_CPUID2 clears it (measured). So the first call also times a short loop with the TSC:
; natively it takes a few hundred cycles, emulated hundreds of thousands; above the threshold
; the software path is used. Memory is read with plain `mov` on both paths (the emulator
; knows `mov`).
; The choice is cached in __enlighten_crc32c_mode: CPUID costs a VM exit.

%include "internal.inc"

global en_crc32c
global __enlighten_crc32c_mode
extern en_cpuid_reg                     ; abi/platform.asm

CRC32C_POLY_REFLECTED equ 0x82F63B78
CRC32C_INIT           equ 0xFFFFFFFF    ; also the final xor (done with `not`)
MODE_UNKNOWN          equ 0
CPUID_REG_ECX         equ 2
MODE_HARDWARE         equ 1
MODE_SOFTWARE         equ 2
PROBE_LOOPS           equ 64            ; iterations of the timed loop (two instructions each)
PROBE_CYCLES_MAX      equ 20000         ; ~100x above native, ~10x below emulated

section .bss nobits alloc noexec write align=1
__enlighten_crc32c_mode:   resb 1       ; MODE_*; a test may preset MODE_SOFTWARE

SLICES                equ 8             ; bytes consumed per step of the software loop
TABLE_SIZE            equ 256 * 4       ; one slicing table, in bytes

section .rodata progbits alloc noexec nowrite align=64
; table 0: t0[b] = the CRC register after shifting byte b through it, one bit at a time;
; table k: tk[b] = t(k-1)[b] >> 8 ^ t0[t(k-1)[b] & 0xFF], i.e. b followed by k zero bytes.
crc32c_tables:
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
  %assign table0_%[byte_value] crc
  %assign row_%[byte_value] crc
    dd crc
  %assign byte_value byte_value + 1
%endrep
%rep SLICES - 1                         ; row_b holds t(k-1)[b] and becomes tk[b]
  %assign byte_value 0
  %rep 256
    %assign previous row_%[byte_value]
    %assign low_byte previous & 0xFF
    %assign row_%[byte_value] (previous >> 8) ^ table0_%[low_byte]
    dd row_%[byte_value]
    %assign byte_value byte_value + 1
  %endrep
%endrep
%if $ - crc32c_tables != SLICES * TABLE_SIZE
  %error slicing tables have the wrong size
%endif

; eax ^= table %1 [dl] ^ table %1 - 1 [dh]. r8 = the tables.
%macro TABLE_PAIR 1
    movzx ecx, dl
    xor eax, [r8 + (%1) * TABLE_SIZE + rcx * 4]
    movzx ecx, dh
    xor eax, [r8 + ((%1) - 1) * TABLE_SIZE + rcx * 4]
%endmacro

section .text progbits alloc exec nowrite align=16

en_crc32c:
    movzx eax, byte [abs __enlighten_crc32c_mode]
    cmp eax, MODE_UNKNOWN
    jne .mode_known
    push rdi
    push rsi
    push r9
    push r10
    push r11
    mov edi, EN_CPUID_FEATURES
    xor esi, esi
    mov edx, CPUID_REG_ECX
    call en_cpuid_reg                   ; no raw CPUID on SNP/TDX (abi/platform.asm)
    pop r11
    pop r10
    pop r9
    pop rsi
    pop rdi
    mov ecx, eax
    mov eax, MODE_SOFTWARE
    test ecx, EN_CPUID_ECX_SSE42
    jz .store_mode
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r8, rax
    mov ecx, PROBE_LOOPS
.probe:
    dec ecx
    jnz .probe
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, r8
    cmp rax, PROBE_CYCLES_MAX
    mov eax, MODE_SOFTWARE
    jae .store_mode                     ; emulated: see the header
    mov eax, MODE_HARDWARE
.store_mode:
    mov [abs __enlighten_crc32c_mode], al
.mode_known:
    cmp eax, MODE_HARDWARE
    mov eax, CRC32C_INIT
    lea r8, [rel crc32c_tables]         ; both paths end with the table's byte loop
    jne .software_slices

.hardware_qwords:
    cmp rsi, SLICES
    jb .software_bytes
    mov rdx, [rdi]
    crc32 rax, rdx
    add rdi, SLICES
    sub rsi, SLICES
    jmp .hardware_qwords

.software_slices:
    cmp rsi, SLICES
    jb .software_bytes
    mov rdx, [rdi]
    xor rdx, rax                        ; rax holds the 32-bit CRC, upper half zero
    xor eax, eax
    TABLE_PAIR 7                        ; byte 0 is followed by 7 more: table 7 ...
    shr rdx, 16
    TABLE_PAIR 5
    shr rdx, 16
    TABLE_PAIR 3
    shr edx, 16
    TABLE_PAIR 1                        ; ... and byte 7 by none: table 0
    add rdi, SLICES
    sub rsi, SLICES
    jmp .software_slices
.software_bytes:
    test rsi, rsi
    jz .done
    movzx edx, byte [rdi]
    xor edx, eax
    movzx edx, dl                       ; table index: low byte of crc ^ data
    shr eax, 8
    xor eax, [r8 + rdx * 4]
    inc rdi
    dec rsi
    jmp .software_bytes

.done:
    not eax
    ret
