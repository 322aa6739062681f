; rewritten-site.asm — a guest that rewrites its own request sites before it reaches them: the
; runner must serve what the CPU would execute there, not what the image held at load (issue
; 18, "requests decoded from what the guest executes"). Run it with --platform kvm and the
; trap transport, which arms both KVM hypercall sites (vmcall 0F 01 C1, vmmcall 0F 01 D9;
; Linux asm/kvm_para.h KVM_HYPERCALL). The library picks one by the CPU's vendor; the stub
; rewrites both, so either path meets the rewrite.
;
;   1. Both sites become three NOPs; then KVM_HC_MAP_GPA_RANGE for page 0 of the area. The
;      CPU runs NOPs: nothing is converted and RAX keeps the hypercall number the guest left.
;   2. The same, single-stepped (RFLAGS.TF): the guest's own #DB follows the NOP at the site
;      as it follows every instruction.
;   3. The sites swapped: vmcall where vmmcall was and vmmcall where vmcall was; then the
;      hypercall for page 1. Both are KVM hypercalls of this run's platform: it is served as
;      the instruction now there, and page 1 becomes shared.
;   4. Each site rewritten to VMGEXIT (F3 0F 01 D9, `rep vmmcall`; edk2 VmgExit.nasm), a
;      request of another platform, with the hypercall's registers: it must run as the same
;      bytes run where no breakpoint is (whatever this host's KVM makes of them: a hypercall
;      KVM answers itself on SVM hardware, #UD here, which the guest's handler counts and
;      skips); nothing is served or converted.
%include "enlighten.inc"
%include "interfaces.inc"

AREA_GPA        equ 0x400000
DB_VECTOR       equ 1
RFLAGS_TF       equ 1 << 8
DR6_INIT        equ 0xFFFF0FF0
NOP_BYTE             equ 0x90
VMGEXIT_BYTES   equ 0xF3 | 0x0F << 8 | 0x01 << 16 | 0xD9 << 24
UD_VECTOR       equ 6
AREA_END        equ AREA_GPA + 0x2000      ; two pages

PLAN_RANGE AREA_GPA, AREA_END, PLAN_ZERO, PLAN_PRIVATE, "rewrite-area"

global main

extern kvm_map_gpa_range
extern __enlighten_site_kvm_vmcall
extern __enlighten_site_kvm_vmmcall

section .bss
db_after_site_nop: resq 1                 ; #DBs right after the first NOP of either site
ud_count:       resq 1
unarmed_rax:    resq 1
unarmed_ud:     resq 1

section .text
; hook(rdi = vector, rsi = error code, rdx = &RIP) -> rax = 1 to resume (idt.asm).
db_handler:
    mov rax, [rdx]
    lea rcx, [rel __enlighten_site_kvm_vmcall + 1]
    cmp rax, rcx
    je .after_nop
    lea rcx, [rel __enlighten_site_kvm_vmmcall + 1]
    cmp rax, rcx
    jne .done
.after_nop:
    inc qword [abs db_after_site_nop]
.done:
    mov eax, DR6_INIT
    mov dr6, rax
    mov eax, 1
    ret

; write3(rdi = site, esi = its three bytes, little-endian)
write3:
    mov [rdi], si
    shr esi, 16
    mov [rdi + 2], sil
    ret

; hypercall(edi = page index) -> rax: KVM_HC_MAP_GPA_RANGE, that page to shared
hypercall:
    shl edi, 12
    add edi, AREA_GPA
    mov esi, 1
    mov edx, KVM_MAP_GPA_RANGE_PAGE_SZ_4K | KVM_MAP_GPA_RANGE_DECRYPTED
    jmp kvm_map_gpa_range

main:
    lea rax, [rel db_handler]
    mov [abs en_exception_hooks + DB_VECTOR * 8], rax
    lea rax, [rel ud_handler]
    mov [abs en_exception_hooks + UD_VECTOR * 8], rax

    ; 1. NOPs at both sites.
    lea rdi, [rel __enlighten_site_kvm_vmcall]
    mov esi, NOP_BYTE | NOP_BYTE << 8 | NOP_BYTE << 16
    call write3
    lea rdi, [rel __enlighten_site_kvm_vmmcall]
    mov esi, NOP_BYTE | NOP_BYTE << 8 | NOP_BYTE << 16
    call write3
    xor edi, edi
    call hypercall
    CHECK "nops_left_rax", rax, KVM_HC_MAP_GPA_RANGE

    ; 2. Again under TF: one trap after the NOP at the site, delivered to the guest.
    pushfq
    or qword [rsp], RFLAGS_TF
    popfq
    xor edi, edi
    call hypercall
    pushfq
    and qword [rsp], ~RFLAGS_TF
    popfq                                 ; keeps rax
    CHECK "stepped_nops_left_rax", rax, KVM_HC_MAP_GPA_RANGE
    CHECK "db_after_site_nop", [abs db_after_site_nop], 1

    ; 3. Swapped: each site holds the other hypercall instruction.
    lea rdi, [rel __enlighten_site_kvm_vmcall]
    mov esi, 0x0F | 0x01 << 8 | 0xD9 << 16          ; vmmcall
    call write3
    lea rdi, [rel __enlighten_site_kvm_vmmcall]
    mov esi, 0x0F | 0x01 << 8 | 0xC1 << 16          ; vmcall
    call write3
    mov edi, 1
    call hypercall
    CHECK "swapped_rax", rax, 0

    ; 4. VMGEXIT at each site, called directly with the hypercall's registers for page 0;
    ;    its fourth byte takes the `pop rbx` after the site, so the `ret` after it returns here.
    ;    The same bytes run first where no breakpoint is: each site must do what they did.
    push rbx
    lea rdi, [rel unarmed_vmgexit]
    call vmgexit_at
    mov [abs unarmed_rax], rax
    mov rax, [abs ud_count]
    mov [abs unarmed_ud], rax
    VALUE "unarmed_vmgexit_rax", [abs unarmed_rax]
    VALUE "unarmed_vmgexit_ud", [abs unarmed_ud]
    lea rdi, [rel __enlighten_site_kvm_vmcall]
    call vmgexit_at
    CHECK "vmgexit_at_vmcall_site_rax", rax, [abs unarmed_rax]
    lea rdi, [rel __enlighten_site_kvm_vmmcall]
    call vmgexit_at
    CHECK "vmgexit_at_vmmcall_site_rax", rax, [abs unarmed_rax]
    mov rax, [abs unarmed_ud]
    imul rax, rax, 3
    CHECK "vmgexit_ud", [abs ud_count], rax
    pop rbx
    xor eax, eax
    ret

; vmgexit_at(rdi = 4 bytes followed by a ret) -> rax: VMGEXIT written there and run with
; KVM_HC_MAP_GPA_RANGE for page 0 to shared in its registers.
vmgexit_at:
    mov dword [rdi], VMGEXIT_BYTES
    mov eax, KVM_HC_MAP_GPA_RANGE
    mov ebx, AREA_GPA
    mov ecx, 1
    mov edx, KVM_MAP_GPA_RANGE_PAGE_SZ_4K | KVM_MAP_GPA_RANGE_DECRYPTED
    xor esi, esi
    jmp rdi

; #UD: counted, and the 4-byte instruction skipped.
ud_handler:
    inc qword [abs ud_count]
    add qword [rdx], 4
    mov eax, 1
    ret

unarmed_vmgexit:
    dd 0                                  ; VMGEXIT_BYTES once vmgexit_at has run
    ret
