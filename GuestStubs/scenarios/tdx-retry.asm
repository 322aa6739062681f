; tdx-retry.asm — a 4 MiB TDVMCALL<MapGPA> that the host answers with RETRY (TDX only; the
; runner is told to inject it by a run option). The guest must resume from the GPA the host
; returns in R11 until the whole range is done.
;
; Records: CHECK tdx.platform (3), VALUE tdx.gpaw, CHECK tdx.shared_bit (1 << 47, the bit the
; runtime's shared alias uses); VALUE tdx.retry.to_shared.status, tdx.retry.to_shared.retries;
; CHECK tdx.retry.to_shared (0), tdx.retry.to_shared.retried (1: at least one RETRY was
; answered and resumed), tdx.retry.shared.old_content_gone (0 non-zero qwords in the whole
; 4 MiB shared view: the part after the resume point was converted too),
; tdx.retry.shared.readback (0), tdx.retry.to_private (0), VALUE tdx.retry.to_private.retries,
; CHECK tdx.retry.private.shared_content_gone (0).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x400000            ; two of KVM's 2 MiB MapGPA chunks
PRIVATE_TAG     equ 0x5052495600000000  ; "PRIV"
SHARED_TAG      equ 0x5348415200000000  ; "SHAR"

; Probe pages: the first and last page of each 2 MiB chunk, so both sides of wherever the
; host stopped are looked at without touching all 4 MiB (guest loops are slow on emulating
; backends, see docs/host-findings.md §4).
PROBE_COUNT     equ 4

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "mapgpa-area"

section .rodata
probes:         dq 0, EN_SIZE_2M - EN_PAGE_SIZE, EN_SIZE_2M, AREA_SIZE - EN_PAGE_SIZE

section .text

; each_probe(rdi = base address, rsi = routine, rdx = pattern start or 0) -> rax = the sum of
; routine(base + probe, 4 KiB, rdx + probe) over the probe pages.
each_probe:
    EN_SAVE_NONVOLATILE
    mov r12, rdi
    mov r13, rsi
    mov r14, rdx
    xor r15d, r15d
    xor ebx, ebx
.next:
    lea rax, [rel probes]
    mov rax, [rax + rbx * 8]
    lea rdi, [r12 + rax]
    lea rdx, [r14 + rax]
    mov esi, EN_PAGE_SIZE
    call r13
    add r15, rax
    inc ebx
    cmp ebx, PROBE_COUNT
    jb .next
    mov rax, r15
    EN_RESTORE_NONVOLATILE
    ret

scenario:
    REQUIRE_PLATFORM EN_PLATFORM_TDX, "tdx.platform"
    call tdx_info
    VALUE "tdx.gpaw", rax
    call tdx_shared_bit
    mov r12, rax
    mov rbx, EN_TDX_SHARED_BIT
    EXPECT "tdx.shared_bit", r12, rbx
    test eax, eax
    jnz .usable
    ret
.usable:

    mov edi, AREA_START
    lea rsi, [rel fill_pattern]
    mov rdx, PRIVATE_TAG
    call each_probe

    mov edi, AREA_START
    or rdi, r12                         ; the shared bit asks for shared
    mov esi, AREA_SIZE
    call tdx_map_gpa
    mov rbx, rax
    mov r13, [abs tdx_map_gpa_retries]
    VALUE "tdx.retry.to_shared.status", rbx
    VALUE "tdx.retry.to_shared.retries", r13
    EXPECT "tdx.retry.to_shared", rbx, 0
    xor eax, eax
    test r13, r13
    setnz al
    EXPECT "tdx.retry.to_shared.retried", rax, 1

    mov edi, AREA_START
    call en_shared_alias
    mov r14, rax
    mov rdi, r14
    lea rsi, [rel count_nonzero]
    call each_probe
    EXPECT "tdx.retry.shared.old_content_gone", rax, 0
    mov rdi, r14
    lea rsi, [rel fill_pattern]
    mov rdx, SHARED_TAG
    call each_probe
    mov rdi, r14
    lea rsi, [rel count_mismatches]
    mov rdx, SHARED_TAG
    call each_probe
    EXPECT "tdx.retry.shared.readback", rax, 0

    mov edi, AREA_START
    mov esi, AREA_SIZE
    call tdx_map_gpa
    EXPECT "tdx.retry.to_private", rax, 0
    VALUE "tdx.retry.to_private.retries", [abs tdx_map_gpa_retries]
    mov edi, AREA_START                 ; memory made private is accepted before use
    mov esi, AREA_SIZE
    call tdx_accept_range
    EXPECT "tdx.retry.accepted", rax, 0
    mov edi, AREA_START
    lea rsi, [rel count_nonzero]
    call each_probe
    EXPECT "tdx.retry.private.shared_content_gone", rax, 0
    ret
