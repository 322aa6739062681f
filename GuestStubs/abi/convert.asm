; convert.asm — one call to convert a range, whatever the platform: it does what a guest of
; the platform en_platform found must do, in the order Linux and OVMF do it.
;
; en_convert(rdi = gpa, rsi = size in bytes, edx = EN_TO_PRIVATE (1) | EN_TO_SHARED (2)) -> rax
;   The whole conversion, both halves (the range identity-mapped, as the runtime maps RAM):
;     KVM  the hypercall below; no guest half.
;     SNP  to shared: rescind validation (snp_pvalidate_range, rdx 0), then the PSC; to
;          private: the PSC, then validate (2 MiB where aligned, 4 KiB fallback). Linux:
;          "Page validation must be rescinded before changing to shared" / "performed after
;          changing to private" (arch/x86/coco/sev/core.c __set_pages_state).
;     TDX  MapGPA; to private, then TDG.MEM.PAGE.ACCEPT (tdx_accept_range), as Linux's
;          tdx_enc_status_changed: "shared->private conversion requires memory to be
;          accepted before use".
;   rax = 0 on success, else the first failure: the validation's (snp_pvalidate_range,
;   tdx_accept_range) or the host request's, as en_request_conversion returns it.
;
; en_request_conversion(rdi, rsi, edx as above) -> rax: the host's half alone, for stubs that
;   validate or accept themselves (lazily, or wrongly on purpose):
;   rax = 0 on success, else the interface's raw error:
;     KVM  kvm_map_gpa_range(gpa, size / 4 KiB, ENCRYPTED for private | page-size hint), the
;          hint PAGE_SZ_2M when gpa and size are both 2 MiB aligned, else PAGE_SZ_4K; rax as
;          the hypercall returned it.
;     SNP  ghcb_psc with one 2 MiB entry per aligned 2 MiB and 4 KiB entries for the rest, in
;          batches of at most 253 entries; rax = the first non-zero SW_EXITINFO2 (or
;          ghcb_init's error).
;     TDX  tdx_map_gpa(gpa | shared bit for shared, size); rax = the TDVMCALL status.
;   EN_ABI_ERR_BAD_ARGUMENT when size is 0, gpa or size is not 4 KiB aligned, or the direction
;   is neither; EN_ABI_ERR_NO_INTERFACE when there is no platform (or no usable GPAW on TDX).
;
;
; en_accept(rdi = gpa, rsi = size) -> rax: the guest half of going private on this platform
;   (SNP validate, TDX accept; 0 elsewhere). en_unaccept(rdi, rsi) -> rax: the guest half of
;   going shared (SNP rescind; 0 elsewhere).
;
; All preserve rbx, rbp, r12-r15 and clobber rcx, rdx, rsi, rdi, r8-r11. en_shared_alias, the
; address of a page's shared view, is in platform.asm (it needs no interface).
;
; Several vCPUs may call it at once: on SNP the PSC entries are built in a 2 KiB buffer on the
; caller's stack (the runtime gives each vCPU 16 KiB) and sent through the calling vCPU's own
; GHCB; KVM and TDX share nothing but caches every vCPU fills with the same value.

%define EN_ABI_SOURCE
%include "enlighten.inc"
%include "interfaces.inc"

global en_convert
global en_request_conversion
global en_accept
global en_unaccept

extern en_platform
extern kvm_map_gpa_range
extern ghcb_psc
extern tdx_shared_bit
extern tdx_map_gpa
extern snp_pvalidate_range
extern tdx_accept_range

PAGE_MASK_4K            equ EN_PAGE_SIZE - 1
PAGE_SHIFT_4K           equ 12
MASK_2M                 equ EN_SIZE_2M - 1

; The SNP batch buffer on the stack, rounded up to keep rsp 16-byte aligned.
PSC_BATCH_BYTES         equ (VMGEXIT_PSC_MAX_COUNT * 8 + 15) & ~15

section .text
en_convert:
    EN_SAVE_NONVOLATILE
    mov r12, rdi                        ; gpa
    mov r13, rsi                        ; size
    mov r14d, edx                       ; direction
    cmp r14d, EN_TO_SHARED
    jne .request
    call en_unaccept                    ; rdi, rsi still the range
    test rax, rax
    jnz .done
.request:
    mov rdi, r12
    mov rsi, r13
    mov edx, r14d
    call en_request_conversion
    test rax, rax
    jnz .done
    cmp r14d, EN_TO_PRIVATE
    jne .done
    mov rdi, r12
    mov rsi, r13
    call en_accept
.done:
    EN_RESTORE_NONVOLATILE
    ret

; en_accept and en_unaccept: the guest's half on this platform; edx = what PVALIDATE does on SNP.
en_accept:
    mov edx, PVALIDATE_VALIDATE
    jmp guest_half
en_unaccept:
    mov edx, PVALIDATE_RESCIND
guest_half:
    push rdi
    push rsi
    push rdx
    call en_platform
    pop rdx
    pop rsi
    pop rdi
    cmp eax, EN_PLATFORM_SNP
    je snp_pvalidate_range              ; validate or rescind, as edx says
    cmp eax, EN_PLATFORM_TDX
    jne .none
    cmp edx, PVALIDATE_VALIDATE
    je tdx_accept_range                 ; going private: accept; going shared: nothing
.none:
    xor eax, eax
    ret

en_request_conversion:
    EN_SAVE_NONVOLATILE
    mov r12, rdi                        ; gpa
    mov r13, rsi                        ; size
    mov r14d, edx                       ; direction

    mov rax, EN_ABI_ERR_BAD_ARGUMENT
    test r13, r13
    jz .out
    mov rcx, r12
    or rcx, r13
    test ecx, PAGE_MASK_4K
    jnz .out
    cmp r14d, EN_TO_PRIVATE
    je .direction_ok
    cmp r14d, EN_TO_SHARED
    jne .out
.direction_ok:
    call en_platform
    cmp eax, EN_PLATFORM_KVM
    je .kvm
    cmp eax, EN_PLATFORM_SNP
    je .snp
    cmp eax, EN_PLATFORM_TDX
    je .tdx
    mov rax, EN_ABI_ERR_NO_INTERFACE
    jmp .out

.kvm:
    xor edx, edx                        ; KVM_MAP_GPA_RANGE_DECRYPTED | PAGE_SZ_4K
    cmp r14d, EN_TO_PRIVATE
    jne .kvm_size
    mov edx, KVM_MAP_GPA_RANGE_ENCRYPTED
.kvm_size:
    mov rcx, r12
    or rcx, r13
    test ecx, MASK_2M
    jnz .kvm_call
    or edx, KVM_MAP_GPA_RANGE_PAGE_SZ_2M
.kvm_call:
    mov rdi, r12
    mov rsi, r13
    shr rsi, PAGE_SHIFT_4K
    call kvm_map_gpa_range
    jmp .out

.tdx:
    call tdx_shared_bit
    test rax, rax
    jnz .tdx_have_bit
    mov rax, EN_ABI_ERR_NO_INTERFACE
    jmp .out
.tdx_have_bit:
    mov rdi, r12
    cmp r14d, EN_TO_SHARED
    jne .tdx_call
    or rdi, rax                         ; the shared bit set asks for shared
.tdx_call:
    mov rsi, r13
    call tdx_map_gpa
    jmp .out

    ; SNP: r12 = next gpa, r13 = bytes left, r15 = PSC operation, rbx = entries in the batch
    ; at rsp (this call's own: vCPUs never share it).
.snp:
    sub rsp, PSC_BATCH_BYTES
    mov r15d, VMGEXIT_PSC_OP_PRIVATE
    cmp r14d, EN_TO_PRIVATE
    je .snp_start
    mov r15d, VMGEXIT_PSC_OP_SHARED
.snp_start:
    shl r15, PSC_ENTRY_OP_SHIFT
    xor ebx, ebx
.snp_next:
    mov rax, r12                        ; aligned gpa = its GFN already in [51:12]
    or rax, r15
    mov ecx, EN_PAGE_SIZE
    test r12d, MASK_2M                  ; a 2 MiB entry needs a 2 MiB aligned GFN ...
    jnz .snp_entry
    cmp r13, EN_SIZE_2M                 ; ... and 2 MiB still to do
    jb .snp_entry
    mov rcx, PSC_ENTRY_2M
    or rax, rcx
    mov ecx, EN_SIZE_2M
.snp_entry:
    mov [rsp + rbx * 8], rax
    inc ebx
    add r12, rcx
    sub r13, rcx
    jz .snp_flush
    cmp ebx, VMGEXIT_PSC_MAX_COUNT
    jb .snp_next
.snp_flush:
    mov rdi, rsp
    mov esi, ebx
    call ghcb_psc
    test rax, rax
    jnz .snp_out
    xor ebx, ebx
    test r13, r13
    jnz .snp_next
    ; rax = 0: done
.snp_out:
    add rsp, PSC_BATCH_BYTES

.out:
    EN_RESTORE_NONVOLATILE
    ret
