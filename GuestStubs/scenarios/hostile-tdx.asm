; hostile-tdx.asm — malformed TDX requests (TDX platform only): MapGPA ranges that are
; unaligned, empty, wrapping, straddling the shared bit or outside guest memory, an unknown
; TDVMCALL subfunction and an unknown TDCALL leaf. Each must be answered with its status and
; the guest carries on; a valid MapGPA afterwards must still work.
;
; Expected values (docs/abi.md §3.1, §3.3, §3.5; Linux arch/x86/kvm/vmx/tdx.c tdx_map_gpa,
; the TDX module's td_call()): KVM checks wrap / illegal GPA / start and end on different sides
; of the shared bit first → INVALID_OPERAND (0x8000000000000000), so a zero size
; (gpa + 0 <= gpa) and a range that is both straddling and unaligned get INVALID_OPERAND; then
; alignment → ALIGN_ERROR (0x8000000000000002). Every MapGPA error sets R11 = the request's gpa.
; A range the VMM cannot convert (outside guest memory) → INVALID_OPERAND. An unknown
; subfunction → SUBFUNC_UNSUPPORTED (0x8000000000000003). An unknown TDCALL leaf →
; TDX_OPERAND_INVALID with operand id RAX (0xC000010000000000).
;
; Records: CHECK tdx.platform (3), tdx.shared_bit (1 << 47), tdx.unaligned_gpa.r10, tdx.unaligned_gpa.r11,
; tdx.unaligned_size.r10, tdx.zero_size.r10, tdx.wrap.r10, tdx.straddle.r10, tdx.straddle.r11,
; tdx.straddle_unaligned.r10, tdx.unbacked.r10, tdx.unbacked.r11,
; tdx.unknown_subfunction.r10, tdx.unknown_leaf.rax, tdx.after_hostile.to_shared (0),
; tdx.after_hostile.to_private (0).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
MISALIGN        equ 0x800
WRAP_GPA        equ 0xFFFFFFFFFFFFF000      ; gpa + 2 pages wraps past 2^64
TWO_PAGES       equ 2 * EN_PAGE_SIZE
UNKNOWN_SUBFUNCTION equ 0x1FFFF             ; GHCI defines 0x10000..0x10005; VMX exit reasons < 0x10000
UNKNOWN_LEAF    equ 0xFF                    ; no TDCALL leaf (version 0) is defined there

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "hostile-area"

section .text

; map(rdi = gpa, rsi = size) -> rax = r10, rdx = r11: one raw MapGPA.
map:
    mov rdx, rsi
    mov rsi, rdi
    mov edi, TDVMCALL_MAP_GPA
    jmp tdx_vmcall_raw

scenario:
    REQUIRE_PLATFORM EN_PLATFORM_TDX, "tdx.platform"
    call tdx_shared_bit
    mov r15, rax
    mov rbx, EN_TDX_SHARED_BIT
    EXPECT "tdx.shared_bit", r15, rbx       ; the bit the runtime's alias and these cases use
    test eax, eax
    jnz .usable
    ret
.usable:
    mov r12, TDVMCALL_STATUS_ALIGN_ERROR
    mov r13, TDVMCALL_STATUS_INVALID_OPERAND

    mov edi, AREA_START + MISALIGN
    mov esi, EN_PAGE_SIZE
    call map
    mov rbx, rdx
    EXPECT "tdx.unaligned_gpa.r10", rax, r12
    EXPECT "tdx.unaligned_gpa.r11", rbx, AREA_START + MISALIGN

    mov edi, AREA_START
    mov esi, MISALIGN
    call map
    EXPECT "tdx.unaligned_size.r10", rax, r12

    mov edi, AREA_START
    xor esi, esi
    call map
    EXPECT "tdx.zero_size.r10", rax, r13

    mov rdi, WRAP_GPA
    mov esi, TWO_PAGES
    call map
    EXPECT "tdx.wrap.r10", rax, r13

    ; Private start, shared end: one page either side of the shared bit.
    mov rdi, r15
    sub rdi, EN_PAGE_SIZE
    mov r14, rdi
    mov esi, TWO_PAGES
    call map
    mov rbx, rdx
    EXPECT "tdx.straddle.r10", rax, r13
    EXPECT "tdx.straddle.r11", rbx, r14

    ; Straddling and unaligned: the straddle is checked first.
    lea rdi, [r14 - MISALIGN]
    mov esi, TWO_PAGES
    call map
    EXPECT "tdx.straddle_unaligned.r10", rax, r13

    mov rdi, EN_UNBACKED_GPA
    mov esi, EN_PAGE_SIZE
    call map
    mov rbx, rdx
    EXPECT "tdx.unbacked.r10", rax, r13
    mov r14, EN_UNBACKED_GPA
    EXPECT "tdx.unbacked.r11", rbx, r14

    mov edi, UNKNOWN_SUBFUNCTION
    xor esi, esi
    xor edx, edx
    call tdx_vmcall_raw
    mov rbx, TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED
    EXPECT "tdx.unknown_subfunction.r10", rax, rbx

    mov edi, UNKNOWN_LEAF
    call tdx_tdcall_raw
    mov rbx, TDX_OPERAND_INVALID
    EXPECT "tdx.unknown_leaf.rax", rax, rbx

    ; Still served after all that.
    mov edi, AREA_START
    or rdi, r15
    mov esi, EN_PAGE_SIZE
    call tdx_map_gpa
    EXPECT "tdx.after_hostile.to_shared", rax, 0
    mov edi, AREA_START
    mov esi, EN_PAGE_SIZE
    call tdx_map_gpa
    EXPECT "tdx.after_hostile.to_private", rax, 0
    ret
