; portio.asm — the runtime's port I/O (reports, the debug console, the exit port, the presence
; read), spoken as the platform requires. On SEV-SNP and TDX hardware `in`/`out` are
; intercepted (#VC with SVM exit code 0x7B, AMD APM vol. 2 §15.35; #VE with exit reason 30,
; Intel GHCI, #VE exit reasons), so the runtime never executes them there:
;   SNP  a GHCB IOIO NAE event on this vCPU's own GHCB (GHCB specification 56421; Linux
;        arch/x86/coco/sev/vc-handle.c vc_handle_ioio: SW_EXITINFO1 = port << 16 | data size |
;        address size | type, RAX valid for OUT, SW_EXITINFO2 0). ghcb.asm registers the GHCB
;        through the MSR protocol on first use (two MSR-protocol VMGEXITs before the first
;        report); the page is in .shared, which the population plan starts shared.
;   TDX  TDG.VP.VMCALL<Instruction.IO> (GHCI: R12 size, R13 direction 0 read / 1 write,
;        R14 port, R15 value; R11 the value read). Linux arch/x86/coco/tdx/tdx.c handle_in/out;
;        abi/tdx.asm tdx_io, which leaves tdx_vmcall_out to the stub.
;   else raw `in`/`out` (KVM, or no platform at all).
; The choice is made once, at the first call, from en_platform (abi/platform.asm) and kept in
; io_mode; each later call costs one byte compare before the raw instruction or the protocol.
;
;   __en_out32(edi = port, esi = value)       one dword OUT
;   __en_out8(edi = port, esi = byte)         one byte OUT
;   __en_in8(edi = port) -> eax = the byte    one byte IN (zero-extended)
;   __en_io_raw_mode() -> ZF = 1 when this vCPU may execute `in`/`out` itself
; All clobber the System V caller-saved registers and need a stack.
; A GHCB that cannot be registered leaves no way to report: the vCPU asks the hypervisor to
; terminate it (GHCB MSR protocol 0x100, reason set 0 "general", code 0 — Linux
; sev_es_terminate(SEV_TERM_SET_GEN, GHCB_SEV_ES_GEN_REQ)).

%include "internal.inc"
%include "interfaces.inc"

global __en_out32
global __en_out8
global __en_in8
global __en_io_raw_mode

IO_UNKNOWN  equ 0                       ; not probed yet
IO_RAW      equ 1
IO_GHCB     equ 2
IO_TDX      equ 3

IO_OUT      equ 0
IO_IN       equ 1
TDX_IO_READ equ 0
TDX_IO_WRITE equ 1
IOIO_SIZE_SHIFT equ 4                   ; DATA_8/16/32 = size << 4 (AMD APM "IOIO Intercept")
TERMINATE_GENERAL equ GHCB_MSR_TERM_REQ ; reason set 0, code 0

section .bss nobits alloc noexec write align=1
io_mode:    resb 1                      ; IO_*: every vCPU stores the same value

section .text progbits alloc exec nowrite align=16

__en_out32:
    cmp byte [abs io_mode], IO_RAW      ; .bss is RAM: absolute addressing
    jne .protocol
    mov edx, edi
    mov eax, esi
    out dx, eax
    ret
.protocol:
    mov edx, esi
    mov esi, 4
    mov ecx, IO_OUT
    jmp port_io

__en_out8:
    cmp byte [abs io_mode], IO_RAW
    jne .protocol
    mov edx, edi
    mov eax, esi
    out dx, al
    ret
.protocol:
    mov edx, esi
    mov esi, 1
    mov ecx, IO_OUT
    jmp port_io

__en_in8:
    cmp byte [abs io_mode], IO_RAW
    jne .protocol
    mov edx, edi
    xor eax, eax
    in al, dx
    ret
.protocol:
    xor edx, edx
    mov esi, 1
    mov ecx, IO_IN
    jmp port_io

__en_io_raw_mode:
    cmp byte [abs io_mode], IO_UNKNOWN
    jne .known
    call probe
.known:
    cmp byte [abs io_mode], IO_RAW
    ret

; probe(): io_mode := the mechanism en_platform's answer calls for. Keeps rdi, rsi, rdx, rcx.
probe:
    call en_platform                    ; preserves every register but rax
    cmp eax, EN_PLATFORM_SNP
    je .ghcb
    cmp eax, EN_PLATFORM_TDX
    je .tdx
    mov byte [abs io_mode], IO_RAW
    ret
.ghcb:
    mov byte [abs io_mode], IO_GHCB
    ret
.tdx:
    mov byte [abs io_mode], IO_TDX
    ret

; port_io(edi = port, esi = size 1/4, edx = value, ecx = IO_OUT/IO_IN) -> eax (IN: the value)
port_io:
    movzx eax, byte [abs io_mode]
    cmp eax, IO_UNKNOWN
    jne .known
    call probe
    movzx eax, byte [abs io_mode]
.known:
    cmp eax, IO_GHCB
    je ghcb_io
    cmp eax, IO_TDX
    je tdx_port_io
    ; raw, on the first call only (the entry points do it inline afterwards)
    mov eax, edx
    mov edx, edi
    cmp ecx, IO_IN
    je .in
    cmp esi, 1
    je .out8
    out dx, eax
    ret
.out8:
    out dx, al
    ret
.in:
    xor eax, eax
    in al, dx
    ret

tdx_port_io:
    mov r8d, edx                        ; the value (OUT)
    xor edx, edx                        ; direction 0: read
    cmp ecx, IO_IN
    je .direction
    mov edx, TDX_IO_WRITE
.direction:
    mov ecx, r8d
    call tdx_io                         ; rax = R10 (status), rdx = R11 (the value read)
    test rax, rax
    jnz .failed
    movzx eax, dl                       ; only byte INs are offered
    ret
.failed:
    mov eax, 0xFF                       ; what a read of a port nobody answers gives
    ret

%if IO_IN != IOIO_TYPE_IN
  %error IO_IN doubles as SW_EXITINFO1's TYPE bit
%endif

ghcb_io:
    EN_SAVE_NONVOLATILE                 ; five pushes: rsp is 16-byte aligned at the calls
    mov ebx, edi                        ; port
    mov r12d, esi                       ; size
    mov r13d, edx                       ; value
    mov r14d, ecx                       ; IO_OUT / IO_IN
    call ghcb_nae_prepare               ; rax = this vCPU's GHCB (shared view), or 0
    test rax, rax
    jz terminate
    mov r15, rax
    mov ecx, SVM_EXIT_IOIO
    mov [r15 + GHCB_SW_EXIT_CODE], rcx
    mov eax, ebx
    shl eax, IOIO_PORT_SHIFT
    mov ecx, r12d
    shl ecx, IOIO_SIZE_SHIFT
    or eax, ecx
    or eax, r14d
    or eax, IOIO_ADDR_64                ; 64-bit mode: what vc_ioio_exitinfo sets for addr_bytes 8
    mov [r15 + GHCB_SW_EXIT_INFO_1], rax
    mov qword [r15 + GHCB_SW_EXIT_INFO_2], 0
    or byte [r15 + GHCB_VALID_SW_BYTE], GHCB_VALID_SW_EXIT_CODE | GHCB_VALID_SW_EXIT_INFO_1 | GHCB_VALID_SW_EXIT_INFO_2
    test r14d, r14d
    jnz .send                           ; IN: RAX is the hypervisor's to fill
    mov [r15 + GHCB_RAX], r13
    or byte [r15 + GHCB_VALID_RAX_BYTE], GHCB_VALID_RAX
.send:
    call ghcb_nae_send                  ; rax = SW_EXITINFO1 (0 = done)
    mov edx, 0xFF                       ; a failed IN reads as a port nobody answers
    test rax, rax
    jnz .done
    movzx edx, byte [r15 + GHCB_RAX]    ; only byte INs are offered
.done:
    mov eax, edx
    EN_RESTORE_NONVOLATILE
    ret

; No GHCB (the vCPU index is beyond EN_MAX_VCPUS, or the hypervisor refused the protocol):
; nothing can be reported, so ask to be terminated, as Linux does.
terminate:
    mov edi, TERMINATE_GENERAL
    call ghcb_msr_call
.halt:
    cli
    hlt
    jmp .halt
