; tdx.asm — Intel TDX guest→host requests through TDCALL: TDG.VP.INFO (the GPA width, hence
; the shared bit) and TDG.VP.VMCALL<MapGPA>. Numbers: docs/abi.md §3 (Linux asm/shared/tdx.h and
; arch/x86/kvm/vmx/tdx.c, td-shim tdx-tdcall, OVMF Tdx.h, the TDX module's td_call()).
;
; Every TDCALL (66 0F 01 CC; nasm has no mnemonic for it) goes through one instruction, the
; request site __enlighten_site_tdx_tdcall, whatever the leaf in rax.
;
;   tdx_info() -> rax = GPAW (TDG.VP.INFO, leaf 1: RCX[5:0]); 0 if the TDCALL failed.
;       The first successful answer is cached.
;   tdx_shared_bit() -> rax = 1 << (GPAW - 1) (bit 47 for GPAW 48, bit 51 for GPAW 52);
;       0 when GPAW is 0 or above 64.
;   tdx_map_gpa(rdi = gpa, shared bit included to ask for shared; rsi = size in bytes)
;       -> rax = final TDVMCALL status (R10), rdx = final R11
;       TDG.VP.VMCALL: rax 0, rcx 0xFC00 (expose R10-R15), r10 0 (standard GHCI call),
;       r11 0x10001 (MapGPA), r12 gpa, r13 size. On RETRY (1) it asks again from the GPA the
;       host put in R11 for the rest of the range, at most TDX_MAP_GPA_MAX_RETRIES (16) times;
;       tdx_map_gpa_retries counts the RETRY answers. Any other status is returned as is. If
;       TDCALL itself fails, rax = its completion status (TDX_* values, bit 63 set).
;   tdx_vmcall_raw(rdi = subfunction (r11), rsi = r12, rdx = r13) -> rax = r10, rdx = r11
;       one TDG.VP.VMCALL with r10 = 0 and those registers, nothing checked (hostile tests).
;   tdx_vmcall(rdi = subfunction (r11), rsi = r12, rdx = r13, rcx = r14, r8 = r15) -> rax = r10,
;       rdx = r11; the VMM's R12-R15 stored in tdx_vmcall_out[0..3] (CPUID's EAX..EDX).
;       One standard TDG.VP.VMCALL (r10 = 0, R10-R15 exposed); a failed TDCALL's status in rax.
;   tdx_io(rdi = port, esi = size, edx = direction (0 read, 1 write), rcx = value) -> rax = R10
;       (a failed TDCALL's status), rdx = R11 (the value read): TDG.VP.VMCALL<Instruction.IO>
;       (R12 size, R13 direction, R14 port, R15 value; GHCI, KVM's tdx selftests
;       tdg_vp_vmcall_instruction_io). Leaves tdx_vmcall_out alone: the runtime reports through
;       it (runtime/portio.asm), between a stub's tdx_vmcall and its reading of the answer.
;   tdx_cpuid(edi = leaf, esi = subleaf, edx = register 0 EAX .. 3 EDX) -> eax = that register
;       TDG.VP.VMCALL<Instruction.CPUID> (R12 leaf, R13 subleaf -> R12-R15 EAX-EDX; Linux
;       tdx.c handle_cpuid); 0 when it failed. Leaves tdx_vmcall_out alone (en_cpuid_reg).
;   tdx_tdcall_raw(rdi = leaf) -> rax = TDCALL completion status
;       one TDCALL with rax = leaf and rcx, rdx, r8-r11 zero (unknown-leaf tests).
; All preserve rbx, rbp, r12-r15 (a VMCALL returns the VMM's values in the exposed R12-R15:
; saved around it) and clobber rcx, rdx, rsi, rdi, r8-r11.
;
;   tdx_accept_page(rdi = gpa | TDX_PAGE_LEVEL_*) -> rax = TDG.MEM.PAGE.ACCEPT's status
;       (leaf 6): 0, TDX_PAGE_ALREADY_ACCEPTED + level, TDX_PAGE_SIZE_MISMATCH + level,
;       TDX_OPERAND_INVALID + 1 (RCX), … (tdx-module tdg_mem_page_accept.c).
;   tdx_accept_range(rdi = gpa, rsi = size) -> rax = 0, or the status that failed a 4 KiB
;       accept; EN_ABI_ERR_BAD_ARGUMENT for an unaligned range. As Linux tdx_accept_memory:
;       2 MiB where aligned and 2 MiB remain, 4 KiB otherwise or when the 2 MiB accept fails
;       (any status); a 4 KiB failure, ALREADY_ACCEPTED included, ends it (Linux panics).
;   tdx_veinfo_get() -> rax = status (TDX_NO_VALID_VE_INFO without a #VE), rcx = exit reason,
;       rdx = exit qualification, r8 = GLA, r9 = GPA, r10 = the instruction's length (R10[31:0];
;       0 for an EPT violation) (TDG.VP.VEINFO.GET, leaf 3).
; Memory must be accepted after MapGPA to private and before use; en_convert does both.

%define EN_ABI_SOURCE
%include "enlighten.inc"
%include "interfaces.inc"

global tdx_info
global tdx_shared_bit
global tdx_map_gpa
global tdx_map_gpa_retries
global tdx_vmcall_raw
global tdx_tdcall_raw
global tdx_vmcall
global tdx_vmcall_out
global tdx_io
global tdx_cpuid
global tdx_accept_page
global tdx_accept_range
global tdx_veinfo_get
global __enlighten_site_tdx_tdcall

section .bss nobits alloc noexec write align=8
tdx_map_gpa_retries:    resq 1
gpaw_cache:             resq 1          ; 0 until TDG.VP.INFO answered
tdx_vmcall_out:         resq 4          ; R12-R15 after the last tdx_vmcall

section .text

; The one TDCALL of this file: leaf in rax, completion status back in rax.
tdcall:
__enlighten_site_tdx_tdcall:
    db 0x66, 0x0f, 0x01, 0xcc
    ret

tdx_info:
    mov rax, [abs gpaw_cache]           ; .bss is RAM: absolute addressing
    test rax, rax
    jnz .done
    mov eax, TDG_VP_INFO
    call tdcall
    test rax, rax
    jnz .failed
    mov eax, ecx
    and eax, TDX_GPAW_MASK
    mov [abs gpaw_cache], rax
.done:
    ret
.failed:
    xor eax, eax
    ret

tdx_shared_bit:
    call tdx_info
    test eax, eax
    jz .none
    cmp eax, 64
    ja .none
    lea ecx, [rax - 1]
    mov eax, 1
    shl rax, cl
    ret
.none:
    xor eax, eax
    ret

; vmcall(r11 = subfunction, r12, r13) -> rax = TDCALL status, r10 = status, r11
; The caller has saved r12-r15.
vmcall:
    xor r10d, r10d                      ; TDX_HYPERCALL_STANDARD
    mov ecx, TDX_VMCALL_EXPOSE_R10_R15
    mov eax, TDG_VP_VMCALL
    jmp tdcall

tdx_vmcall_raw:
    EN_SAVE_NONVOLATILE
    mov r11, rdi
    mov r12, rsi
    mov r13, rdx
; The VMCALL with R11-R15 loaded and the callee-saved registers saved (EN_SAVE_NONVOLATILE):
; rax = R10 (or the failed TDCALL's status), rdx = R11; restores them and returns.
vmcall_answer:
    call vmcall
    test rax, rax
    jnz .out                            ; TDCALL itself failed: report that
    mov rax, r10
    mov rdx, r11
.out:
    EN_RESTORE_NONVOLATILE
    ret

tdx_vmcall:
    EN_SAVE_NONVOLATILE
    mov r11, rdi
    mov r12, rsi
    mov r13, rdx
    mov r14, rcx
    mov r15, r8
    call vmcall
    mov [abs tdx_vmcall_out], r12
    mov [abs tdx_vmcall_out + 8], r13
    mov [abs tdx_vmcall_out + 16], r14
    mov [abs tdx_vmcall_out + 24], r15
    test rax, rax
    jnz .out                            ; TDCALL itself failed: report that
    mov rax, r10
    mov rdx, r11
.out:
    EN_RESTORE_NONVOLATILE
    ret

tdx_io:
    EN_SAVE_NONVOLATILE
    mov r14, rdi
    mov r12, rsi
    mov r13, rdx
    mov r15, rcx
    mov r11d, TDVMCALL_IO
    jmp vmcall_answer

tdx_cpuid:
    EN_SAVE_NONVOLATILE
    mov ebx, edx                        ; the register wanted (rbx: the TDX module keeps it)
    mov r12d, edi
    mov r13d, esi
    mov r11d, TDVMCALL_CPUID
    call vmcall
    or rax, r10                         ; TDCALL and TDVMCALL both succeeded?
    jnz .failed
    mov eax, r12d
    cmp ebx, 1
    cmove eax, r13d
    cmp ebx, 2
    cmove eax, r14d
    cmp ebx, 3
    cmove eax, r15d
    jmp .out
.failed:
    xor eax, eax
.out:
    EN_RESTORE_NONVOLATILE
    ret

tdx_map_gpa:
    EN_SAVE_NONVOLATILE
    mov qword [abs tdx_map_gpa_retries], 0
    mov rbx, rdi                        ; where this request starts
    lea r14, [rdi + rsi]                ; end of the whole range (a wrap is the host's to refuse)
    mov r15, rsi                        ; bytes left from rbx
.again:
    mov r11d, TDVMCALL_MAP_GPA
    mov r12, rbx
    mov r13, r15
    call vmcall
    test rax, rax
    jnz .out                            ; TDCALL itself failed: rax = its status
    cmp r10, TDVMCALL_STATUS_RETRY
    jne .done
    ; RETRY: R11 is where to resume. Only a GPA inside the range makes sense.
    mov rax, [abs tdx_map_gpa_retries]
    inc rax
    mov [abs tdx_map_gpa_retries], rax
    cmp rax, TDX_MAP_GPA_MAX_RETRIES
    ja .done
    cmp r11, rbx
    jb .done
    cmp r11, r14
    ja .done
    mov rbx, r11
    mov r15, r14
    sub r15, r11
    jmp .again
.done:
    mov rax, r10
.out:
    mov rdx, r11
    EN_RESTORE_NONVOLATILE
    ret

tdx_tdcall_raw:
    EN_SAVE_NONVOLATILE
    mov rax, rdi
    xor ecx, ecx                        ; exposes nothing if the leaf is TDG.VP.VMCALL
    xor edx, edx
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    xor r11d, r11d
    call tdcall
    EN_RESTORE_NONVOLATILE
    ret

tdx_accept_page:
    mov rcx, rdi
    mov eax, TDG_MEM_PAGE_ACCEPT
    jmp tdcall

tdx_veinfo_get:
    mov eax, TDG_VP_VEINFO_GET
    jmp tdcall

; r12 = next gpa, r13 = bytes left
tdx_accept_range:
    EN_SAVE_NONVOLATILE
    mov r12, rdi
    mov r13, rsi
    mov rax, EN_ABI_ERR_BAD_ARGUMENT
    mov rcx, r12
    or rcx, r13
    test ecx, EN_PAGE_SIZE - 1
    jnz .out
    xor eax, eax
.next:
    test r13, r13
    jz .out
    test r12d, EN_SIZE_2M - 1
    jnz .small
    cmp r13, EN_SIZE_2M
    jb .small
    lea rdi, [r12 + TDX_PAGE_LEVEL_2M]
    call tdx_accept_page
    test rax, rax
    jnz .small                          ; any failure: try the smaller size (Linux)
    add r12, EN_SIZE_2M
    sub r13, EN_SIZE_2M
    jmp .next
.small:
    mov rdi, r12                        ; | TDX_PAGE_LEVEL_4K (0)
    call tdx_accept_page
    test rax, rax
    jnz .out
    add r12, EN_PAGE_SIZE
    sub r13, EN_PAGE_SIZE
    jmp .next
.out:
    EN_RESTORE_NONVOLATILE
    ret
