; gdt.asm — the runtime's static GDT and its 64-bit GDTR (both layouts).
;
; Exports: __enlighten_gdt (the table, also used by the firmware reset path through its own
; 32-bit GDTR) and __enlighten_gdtr64 (limit + 64-bit base, for `lgdt` in long mode).
; The Accessed bit of every descriptor is preset, so loading a selector never makes the CPU
; write the table: it may live in ROM (firmware layout) and is never dirtied in RAM.

%include "internal.inc"

global __enlighten_gdt
global __enlighten_gdtr64

; Descriptor fields (Intel SDM vol. 3 §3.4.5 / AMD APM vol. 2 §4.7).
ACCESS_PRESENT      equ 0x80
ACCESS_CODE_DATA    equ 0x10            ; S = 1: code or data, not a system descriptor
ACCESS_EXECUTABLE   equ 0x08
ACCESS_READ_WRITE   equ 0x02            ; readable code / writable data
ACCESS_ACCESSED     equ 0x01            ; preset: see above
FLAG_GRANULARITY    equ 0x8             ; limit counts 4 KiB units
FLAG_32BIT          equ 0x4             ; D/B = 1
FLAG_LONG           equ 0x2             ; L = 1: 64-bit code (D must be 0)
FLAT_LIMIT          equ 0xFFFFF         ; with G = 1: the whole 4 GiB

ACCESS_CODE equ ACCESS_PRESENT | ACCESS_CODE_DATA | ACCESS_EXECUTABLE | ACCESS_READ_WRITE | ACCESS_ACCESSED
ACCESS_DATA equ ACCESS_PRESENT | ACCESS_CODE_DATA | ACCESS_READ_WRITE | ACCESS_ACCESSED

; One flat (base 0) segment descriptor: access byte, flags nibble.
%macro FLAT_DESCRIPTOR 2
    dw FLAT_LIMIT & 0xFFFF                  ; limit 15:0
    dw 0                                    ; base 15:0
    db 0                                    ; base 23:16
    db %1                                   ; access
    db ((%2) << 4) | (FLAT_LIMIT >> 16)     ; flags, limit 19:16
    db 0                                    ; base 31:24
%endmacro

section .rodata progbits alloc noexec nowrite align=16

__enlighten_gdt:
    dq 0                                                        ; null
    FLAT_DESCRIPTOR ACCESS_CODE, FLAG_GRANULARITY | FLAG_LONG   ; EN_SEL_CODE64
    FLAT_DESCRIPTOR ACCESS_DATA, FLAG_GRANULARITY | FLAG_32BIT  ; EN_SEL_DATA
    FLAT_DESCRIPTOR ACCESS_CODE, FLAG_GRANULARITY | FLAG_32BIT  ; EN_SEL_CODE32
%if $ - __enlighten_gdt != EN_GDT_LIMIT + 1
  %error GDT size disagrees with EN_GDT_ENTRIES
%endif

    align 8
__enlighten_gdtr64:
    dw EN_GDT_LIMIT
    dq __enlighten_gdt
