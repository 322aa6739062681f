; bench-accept-tdx.asm — the guest of `enlighten bench`'s accepted TDX round trip (docs/
; benchmarks.md): one 4 KiB page made shared and private again and accepted, BENCH_REQUESTS
; times, as a TD guest must do it — MapGPA to shared, MapGPA to private, TDG.MEM.PAGE.ACCEPT,
; then a read of the page, which must not exit: with private memory enforced, each request
; also changes which view of the page is open. Three TDCALLs a round trip, all through this
; stub's one request site (so the floor needs one breakpoint too), after one TDG.VP.INFO for
; the shared bit.
%include "enlighten.inc"
%include "interfaces.inc"
%include "bench-trap.inc"

global main
global __enlighten_site_bench_accept_tdx

TDX_GPAW_MASK_BITS      equ 0x3F        ; TDG.VP.INFO RCX[5:0]

section .text
; The one TDCALL: leaf in rax, trapped before it executes; the host skips it.
tdcall:
__enlighten_site_bench_accept_tdx:
    db 0x66, 0x0f, 0x01, 0xcc
    ret

main:
    push rbx
    push r12
    push r13
    push r14
    mov eax, TDG_VP_INFO
    call tdcall
    mov ecx, ecx
    and ecx, TDX_GPAW_MASK_BITS
    dec ecx
    mov ebx, 1
    shl rbx, cl                         ; the shared bit, 1 << (GPAW - 1)
    mov r14d, BENCH_REQUESTS
    mov r13d, EN_PAGE_SIZE
round_trip:
    mov r12d, FLIP_GPA
    or r12, rbx                         ; MapGPA to shared
    call map_gpa
    mov r12d, FLIP_GPA                  ; MapGPA to private
    call map_gpa
    mov ecx, FLIP_GPA                   ; | TDX_PAGE_LEVEL_4K
    mov eax, TDG_MEM_PAGE_ACCEPT
    call tdcall
    mov rax, [abs FLIP_GPA]             ; accepted: the private view is open again
    dec r14d
    jnz round_trip
    xor eax, eax
    pop r14
    pop r13
    pop r12
    pop rbx
    ret

; TDG.VP.VMCALL<MapGPA>(r12 = gpa, r13 = size); r12 and r13 come back as the VMM left them.
map_gpa:
    xor eax, eax                        ; TDG.VP.VMCALL
    mov ecx, TDX_VMCALL_EXPOSE_R10_R15
    xor r10d, r10d                      ; TDX_HYPERCALL_STANDARD
    mov r11d, TDVMCALL_MAP_GPA
    jmp tdcall
