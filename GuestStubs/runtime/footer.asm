; footer.asm — firmware layout only: reserves .footer (0xFFFFF800..0xFFFFFFDF) as zeros.
; The builder later writes the OVMF-style GUID table and the SEV/TDX metadata there, the table
; ending at 4 GiB - 32 (docs/image-format.md); firmware.ld checks the size.

%include "internal.inc"

%ifdef LAYOUT_FIRMWARE

FOOTER_SIZE equ 0x7E0

section .footer progbits alloc noexec nowrite align=1
    times FOOTER_SIZE db 0

%endif ; LAYOUT_FIRMWARE
