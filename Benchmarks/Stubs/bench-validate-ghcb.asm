; bench-validate-ghcb.asm — the guest of `enlighten bench`'s validated SEV-SNP round trip
; (docs/benchmarks.md): one 4 KiB page made shared and private again BENCH_REQUESTS times as an
; SNP guest must do it, with the runner enforcing private memory (run as --platform ghcb; the
; runtime's page tables then map RAM with C=1 and the shared alias with C=0):
;   PVALIDATE rescind (RDX 0), PSC NAE event to shared, PSC NAE event to private, PVALIDATE
;   validate (RDX 1), then a read of the page through its private (C=1) mapping, which must
;   not exit.
; That is Linux's order (arch/x86/coco/sev/core.c __set_pages_state: "Page validation must be
; rescinded before changing to shared" / "must be performed after changing to private"), the
; one en_convert follows; here each half is inlined so that a round trip is four trapped
; exits and nothing else.
;
; Request sites: this stub's PVALIDATE (F2 0F 01 FF, Linux asm/sev.h pvalidate()) and its
; VMGEXIT (F3 0F 01 D9, `rep vmmcall`), plus ghcb.asm's own VMGEXIT, which ghcb_init uses to
; register the GHCB: three of the four debug registers.
;
; As in bench-trap-ghcb-psc.asm the GHCB fields that stay put are written once, the GHCB MSR
; is set to the GHCB's GPA once (BENCH_GHCB_PSC_SETUP, bench-ghcb.inc), and the loop rewrites
; only what the host's answer changed: the PSC header (cur_entry
; advanced), the entry (cur_page set; the operation flips) and the valid bits of the four SW_*
; fields, through the GHCB's shared view. Each
; answer is checked as a guest must: PVALIDATE RAX 0 with CF clear, SW_EXITINFO2 0.
;
; Exits per run: 1 (presence read) + 6 (ghcb_init) + 1 (WRMSR) + 4 * BENCH_REQUESTS + 1 (exit).

%include "enlighten.inc"
%include "interfaces.inc"
%include "bench-trap.inc"
%include "bench-ghcb.inc"

EXIT_NO_GHCB    equ 1               ; exit codes: ghcb_init failed (BENCH_GHCB_PSC_SETUP),
EXIT_PVALIDATE  equ 2               ; a PVALIDATE did not succeed,
EXIT_PSC        equ 3               ; a PSC came back with SW_EXITINFO2 != 0

global main
global __enlighten_site_bench_validate_pvalidate
global __enlighten_site_bench_validate_vmgexit

section .text
; PVALIDATE(rax = GVA, ecx = RMP_PG_SIZE_4K, edx = validate): trapped before it executes;
; the host sets RAX and CF as the instruction does and skips it.
pvalidate:
__enlighten_site_bench_validate_pvalidate:
    db 0xF2, 0x0F, 0x01, 0xFF
    ret

; The loop's VMGEXIT: trapped before it executes; the host answers in the GHCB and skips it.
vmgexit:
__enlighten_site_bench_validate_vmgexit:
    rep vmmcall
    ret

main:
    push rbx
    push r12
    push r13
    push r14
    BENCH_GHCB_PSC_SETUP done           ; r14 = the GHCB's shared view

    mov r12d, BENCH_REQUESTS
    mov rbx, TO_SHARED
    mov r13, TO_PRIVATE
round_trip:
    mov edx, PVALIDATE_RESCIND          ; validation rescinded before the page goes shared
    call validation
    jnz done
    mov [r14 + PSC_ENTRY], rbx
    call psc
    jnz done
    mov [r14 + PSC_ENTRY], r13
    call psc
    jnz done
    mov edx, PVALIDATE_VALIDATE         ; validated after it is private again
    call validation
    jnz done
    mov rax, [abs FLIP_GPA]             ; validated: the private view is open again
    dec r12d
    jnz round_trip
    xor eax, eax
done:
    pop r14
    pop r13
    pop r12
    pop rbx
    ret

; validation(edx = validate) -> ZF = 1 on success, else ZF = 0 with eax = EXIT_PVALIDATE.
validation:
    mov eax, FLIP_GPA                   ; identity-mapped: GVA = GPA
    xor ecx, ecx                        ; RMP_PG_SIZE_4K
    call pvalidate
    jc .failed
    test rax, rax
    jnz .failed
    ret
.failed:
    mov eax, EXIT_PVALIDATE
    test eax, eax
    ret

; psc() with the entry in place -> ZF = 1 on success, else ZF = 0 with eax = EXIT_PSC.
psc:
    mov qword [r14 + GHCB_SHARED_BUFFER], 0     ; header: cur_entry 0, end_entry 0
    mov byte [r14 + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_ALL
    call vmgexit
    cmp qword [r14 + GHCB_SW_EXIT_INFO_2], 0
    je .ret
    mov eax, EXIT_PSC
    test eax, eax
.ret:
    ret
