; snp-launch-pages.asm — the guest's side of an SNP launch's special pages (firmware layout,
; --platform ghcb): it checks the CPUID page the way Linux's setup_cpuid_table / snp_cpuid do
; (arch/x86/boot/startup/sev-shared.c) and reads the secrets page header.
;
; CPUID page (Linux arch/x86/include/asm/sev.h struct snp_cpuid_table): count in 1..64 (Linux
; terminates the guest otherwise), both header reserved fields zero, every entry's reserved
; qword zero, and every entry equal to what the CPUID instruction returns for its EAX_IN/ECX_IN
; — except the fields Linux's snp_cpuid_postprocess recomputes because they differ per vCPU
; or follow CR4/XCR0: leaf 1 EBX[31:24] (APIC ID) and ECX[27] (OSXSAVE), leaf 7.0 ECX[4]
; (OSPKE), leaves 0xB/0x1F EDX (x2APIC ID), leaf 0xD.0/0xD.1 EBX (XSAVE size), leaf
; 0x8000001E EAX (extended APIC ID).
; Secrets page (struct snp_secrets_page): VERSION 2 or 3, IMIEN and the reserved bits clear,
; FMS equal to CPUID(1).EAX, VMPCK0 not all zero (Linux treats a zero key as erased).
;
; Records: CHECK launch.platform (2); VALUE cpuid.count; CHECK cpuid.count.valid (1),
; cpuid.header.reserved (0), cpuid.entries.reserved (0 entries with a non-zero reserved
; field), cpuid.entries.match (= count); on a mismatch VALUE cpuid.mismatch = the first
; differing entry as leaf << 32 | subleaf and VALUE cpuid.mismatch.register (0 EAX .. 3 EDX);
; VALUE secrets.version; CHECK secrets.version.known (1), secrets.flags (0), secrets.fms
; (CPUID(1).EAX), secrets.vmpck0.present (1).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

; Where our firmware images put the pages (Sources/Payload/Firmware/FirmwareTables.swift
; LaunchPages; a test checks the two agree).
SNP_SECRETS_GPA         equ 0x82000
SNP_CPUID_GPA           equ 0x83000
SNP_CPUID_COUNT_MAX     equ 64
SNP_CPUID_HEADER_SIZE   equ 16
SNP_CPUID_ENTRY_SIZE    equ 48
ANY_SUBLEAF             equ 0xFFFFFFFF

section .rodata
; The dynamic fields: leaf, subleaf (or ANY_SUBLEAF), then the EAX, EBX, ECX, EDX masks of
; the bits that are compared.
dynamic_fields:
    dd 0x00000001, ANY_SUBLEAF, 0xFFFFFFFF, 0x00FFFFFF, ~(1 << 27), 0xFFFFFFFF
    dd 0x00000007, 0,           0xFFFFFFFF, 0xFFFFFFFF, ~(1 << 4),  0xFFFFFFFF
    dd 0x0000000B, ANY_SUBLEAF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0
    dd 0x0000001F, ANY_SUBLEAF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0
    dd 0x0000000D, 0,           0xFFFFFFFF, 0,          0xFFFFFFFF, 0xFFFFFFFF
    dd 0x0000000D, 1,           0xFFFFFFFF, 0,          0xFFFFFFFF, 0xFFFFFFFF
    dd 0x8000001E, ANY_SUBLEAF, 0,          0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF
DYNAMIC_FIELD_SIZE      equ 24
DYNAMIC_FIELD_COUNT     equ ($ - dynamic_fields) / DYNAMIC_FIELD_SIZE
all_bits:               dd 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF

section .text

; masks_for(edi = leaf, esi = subleaf) -> rax = address of the four dword masks.
masks_for:
    lea rax, [rel dynamic_fields]
    mov ecx, DYNAMIC_FIELD_COUNT
.next:
    cmp [rax], edi
    jne .skip
    cmp dword [rax + 4], ANY_SUBLEAF
    je .found
    cmp [rax + 4], esi
    je .found
.skip:
    add rax, DYNAMIC_FIELD_SIZE
    dec ecx
    jnz .next
    lea rax, [rel all_bits]
    ret
.found:
    add rax, 8
    ret

scenario:
    REQUIRE_PLATFORM EN_PLATFORM_SNP, "launch.platform"
    call check_cpuid_page
    call check_secrets_page
    ret

check_cpuid_page:
    EN_SAVE_NONVOLATILE
    mov r12d, [abs SNP_CPUID_GPA]       ; count
    VALUE "cpuid.count", r12
    lea eax, [r12 - 1]
    cmp eax, SNP_CPUID_COUNT_MAX        ; unsigned: 1 <= count <= 64
    setb al
    movzx eax, al
    EXPECT "cpuid.count.valid", rax, 1
    test eax, eax
    jz .done
    mov eax, [abs SNP_CPUID_GPA + 4]
    or rax, [abs SNP_CPUID_GPA + 8]
    EXPECT "cpuid.header.reserved", rax, 0

    xor r13d, r13d                      ; entry index
    xor r14d, r14d                      ; entries that match the CPUID instruction
    xor ebp, ebp                        ; entries with a non-zero reserved field
    mov r15, -1                         ; the first mismatch, not yet seen
.entry:
    cmp r13d, r12d
    jae .entries_done
    imul ebx, r13d, SNP_CPUID_ENTRY_SIZE
    add ebx, SNP_CPUID_GPA + SNP_CPUID_HEADER_SIZE  ; the entry (low RAM: 32-bit address)
    cmp qword [rbx + 40], 0
    je .reserved_clear
    inc ebp
.reserved_clear:
    ; Every vCPU runs this at once: the observed registers live on this vCPU's stack.
    mov r8, rbx                         ; cpuid overwrites ebx
    mov eax, [rbx]
    mov ecx, [rbx + 4]
    cpuid
    sub rsp, 16
    mov [rsp], eax                      ; EAX, EBX, ECX, EDX as the CPUID instruction returned them
    mov [rsp + 4], ebx
    mov [rsp + 8], ecx
    mov [rsp + 12], edx
    mov rbx, r8
    mov edi, [rbx]
    mov esi, [rbx + 4]
    call masks_for
    xor ecx, ecx                        ; register 0..3
.register:
    mov edx, [rsp + rcx * 4]
    xor edx, [rbx + 24 + rcx * 4]
    and edx, [rax + rcx * 4]
    jnz .mismatch
    inc ecx
    cmp ecx, 4
    jb .register
    add rsp, 16
    inc r14d
    jmp .next_entry
.mismatch:
    add rsp, 16
    cmp r15, -1
    jne .next_entry                     ; report only the first
    mov r15d, [rbx]
    shl r15, 32
    mov eax, [rbx + 4]
    or r15, rax
    VALUE "cpuid.mismatch", r15
    VALUE "cpuid.mismatch.register", rcx
.next_entry:
    inc r13d
    jmp .entry
.entries_done:
    EXPECT "cpuid.entries.reserved", rbp, 0
    EXPECT "cpuid.entries.match", r14, r12
.done:
    EN_RESTORE_NONVOLATILE
    ret

check_secrets_page:
    EN_SAVE_NONVOLATILE
    mov ebx, [abs SNP_SECRETS_GPA]      ; VERSION
    VALUE "secrets.version", rbx
    lea eax, [rbx - 2]
    cmp eax, 2                          ; 2 or 3
    setb al
    movzx eax, al
    EXPECT "secrets.version.known", rax, 1
    mov eax, [abs SNP_SECRETS_GPA + 4]  ; IMIEN (bit 0) and reserved bits
    EXPECT "secrets.flags", rax, 0
    mov eax, 1
    cpuid
    mov r12d, eax
    mov eax, [abs SNP_SECRETS_GPA + 8]  ; FMS
    EXPECT "secrets.fms", rax, r12
    mov rax, [abs SNP_SECRETS_GPA + 0x20]
    or rax, [abs SNP_SECRETS_GPA + 0x28]
    or rax, [abs SNP_SECRETS_GPA + 0x30]
    or rax, [abs SNP_SECRETS_GPA + 0x38]
    setnz al
    movzx eax, al
    EXPECT "secrets.vmpck0.present", rax, 1
    EN_RESTORE_NONVOLATILE
    ret
