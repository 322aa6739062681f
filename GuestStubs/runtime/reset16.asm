; reset16.asm — firmware layout only: reset vector, the 16/32-bit path to long mode, AP entry.
;
; The vCPU starts in real mode at 0xFFFFFFF0 with CS base 0xFFFF0000 (so CS-relative offsets
; of the top 64 KiB are address - 0xFFFF0000). This host's KVM emulates real and protected
; mode one instruction at a time (~0.6 µs each; docs/host-findings.md §4), so the path is a few
; instructions long and touches memory once (lgdt). No x87, nothing vendor-specific.
;   real mode:   lgdt (32-bit base, o32), CR0.PE, far jump with a 32-bit offset
;   32-bit mode: edi = initial APIC ID (CPUID.1:EBX[31:24]); on SEV-SNP, the C-bit into the
;                page tables (below); CR4.PAE, CR3 = __enlighten_pml4, EFER.LME, CR0 = paging
;                on, far jump to 64-bit code
;   64-bit mode: on SEV-SNP, CR3 gains the C-bit too; then _start64 (entry.asm), which expects
;                edi = vCPU index.
;
; SEV-SNP: the guest finds the platform as Linux's sme_enable and OVMF's reset vector do
; (CPUID 0x80000000 reaches 0x8000001F, whose EAX bit 1 says SEV, and only then SEV_STATUS MSR
; 0xC0010131 bit 2 says SNP is active) and reads the C-bit's position from CPUID 0x8000001F
; EBX[5:0], never assuming one. Its memory is private from the start: the ROM image, the RAM
; the plan populates, all of it validated at launch. So before paging is on, while every access
; is private, it gives each identity leaf the C-bit (RAM and ROM seen private) and takes bit 47
; off each alias leaf (the alias becomes the shared, C=0 view, as the TDX alias is). Page-table
; walks and instruction fetches are private whatever their C-bit (AMD APM vol. 2 §15.34.5), so
; the table pointers need none; CR3 gets it once in long mode (32-bit mode cannot load it)
; because en_shared_alias reads it there. Where the CPU has 1 GiB pages (CPUID 0x80000001
; EDX bit 26, every SNP part) the four identity and four alias PDPT entries become 1 GiB
; leaves: eight stores. Elsewhere each of the 2048 2 MiB leaves of either view is rewritten,
; which this host, emulating the reset path's accesses one at a time, takes ~40 ms over.

%include "internal.inc"

%ifdef LAYOUT_FIRMWARE

global __enlighten_reset_vector
global __enlighten_reset16
extern __enlighten_gdt
extern __enlighten_pml4
extern __enlighten_identity_pds
extern __enlighten_identity_pdpt
extern _start64

; Firmware.ld places .text16 here; its own ASSERT keeps this in step.
TEXT16_ADDRESS      equ 0xFFFFF000
RESET_CS_BASE       equ 0xFFFF0000      ; CS base after reset
TEXT16_CS_OFFSET    equ TEXT16_ADDRESS - RESET_CS_BASE
EFER_HIGH_BITS      equ 0               ; edx half of the EFER write

; SEV-SNP detection (Linux arch/x86/mm/mem_encrypt_identity.c sme_enable; msr-index.h).
CPUID_MAX_EXTENDED  equ 0x80000000
CPUID_SEV_LEAF      equ 0x8000001F
CPUID_SEV_EAX_SEV   equ 1 << 1
CPUID_SEV_EBX_CBIT  equ 0x3F            ; EBX[5:0]: the C-bit's position
MSR_SEV_STATUS      equ 0xC0010131
SEV_STATUS_SNP      equ 1 << 2          ; MSR_AMD64_SEV_SNP_ENABLED
LEAF_HIGH_DWORD     equ 4               ; a leaf's bits 63:32, at this offset
ALIAS_BIT_HIGH      equ 1 << (EN_ALIAS_LEAF_BIT - 32)
CPUID_EXT_FEATURES  equ 0x80000001
CPUID_EDX_PAGE1GB   equ 26              ; Linux cpufeatures.h X86_FEATURE_GBPAGES (1*32+26)
; A 1 GiB leaf (present, writable, accessed, dirty, PS), as pagetables.asm presets its own.
GIB_LEAF            equ (1 << 0) | (1 << 1) | (1 << 5) | (1 << 6) | (1 << 7)
GIB_SHIFT           equ 30

section .text16 progbits alloc exec nowrite align=16

bits 16
__enlighten_reset16:
    o32 lgdt [cs:TEXT16_CS_OFFSET + (gdtr32 - $$)]
    mov eax, EN_CR0_PE | EN_CR0_ET       ; also clears CD/NW from the reset value
    mov cr0, eax
    jmp dword EN_SEL_CODE32:protected32

bits 32
protected32:
    ; No data segment is loaded here: nothing below reads memory, and _start64 loads them all.
    mov eax, EN_CPUID_FEATURES
    cpuid
    shr ebx, EN_CPUID_APIC_ID_SHIFT
    mov edi, ebx

    ; ebp = the C-bit's position on SEV-SNP, 0 elsewhere (position 0 is no C-bit on any part).
    xor ebp, ebp
    mov eax, CPUID_MAX_EXTENDED
    cpuid
    cmp eax, CPUID_SEV_LEAF
    jb .paging
    mov eax, CPUID_SEV_LEAF
    cpuid
    test eax, CPUID_SEV_EAX_SEV
    jz .paging
    mov ecx, MSR_SEV_STATUS
    rdmsr
    test eax, SEV_STATUS_SNP
    jz .paging
    and ebx, CPUID_SEV_EBX_CBIT
    mov ebp, ebx
    lea ecx, [ebx - 32]
    cmp ebx, 32                         ; every SNP part has it in bits 63:32 (47 or 51)
    jb .no_high_cbit
    mov edx, 1
    shl edx, cl                         ; the C-bit within a leaf's high dword
    mov eax, EN_SEL_DATA                ; flat 4 GiB: the tables sit in the ROM below 4 GiB
    mov ds, eax
    mov esi, edx
    mov eax, CPUID_EXT_FEATURES
    cpuid
    bt edx, CPUID_EDX_PAGE1GB
    mov edx, esi                        ; mov keeps CF
    jnc .leaves_2m
%assign gib 0
%rep EN_MAPPED_GIB
    mov dword [__enlighten_identity_pdpt + gib * 8], (gib << GIB_SHIFT) | GIB_LEAF
    mov dword [__enlighten_identity_pdpt + gib * 8 + LEAF_HIGH_DWORD], edx
    mov dword [__enlighten_identity_pdpt + EN_PAGE_SIZE + gib * 8], (gib << GIB_SHIFT) | GIB_LEAF
    mov dword [__enlighten_identity_pdpt + EN_PAGE_SIZE + gib * 8 + LEAF_HIGH_DWORD], 0
  %assign gib gib + 1
%endrep
    jmp .paging
.leaves_2m:
    mov esi, __enlighten_identity_pds
    mov ecx, EN_PD_LEAVES
.leaf:
    or [esi + LEAF_HIGH_DWORD], edx                                 ; identity: C=1, private
    and dword [esi + EN_ALIAS_PDS_OFFSET + LEAF_HIGH_DWORD], ~ALIAS_BIT_HIGH ; alias: C=0, shared
    add esi, 8
    dec ecx
    jnz .leaf

.paging:
    mov eax, EN_CR4_PAE
    mov cr4, eax
    mov eax, __enlighten_pml4            ; below 4 GiB: in ROM here
    mov cr3, eax
    mov ecx, EN_MSR_EFER
    mov eax, EN_EFER_LME                 ; EFER is 0 after reset: write, no read needed
    mov edx, EFER_HIGH_BITS
    wrmsr
    mov eax, EN_CR0_LONG                 ; paging on with LME set: long mode is active
    mov cr0, eax
    jmp EN_SEL_CODE64:long64

.no_high_cbit:
    ud2                                 ; no IDT yet: the VMM sees the shutdown at this RIP

bits 64
long64:
    test ebp, ebp
    jz .start
    mov rax, cr3
    bts rax, rbp
    mov cr3, rax                        ; also flushes what the TLB holds of the old leaves
.start:
    jmp _start64

    align 4
gdtr32:                                  ; for lgdt in real mode: limit, 32-bit base
    dw EN_GDT_LIMIT
    dd __enlighten_gdt

; At 0xFFFFFFF0: the first instruction the vCPU runs. A near jump stays within CS.
section .resetvector progbits alloc exec nowrite align=16
bits 16
__enlighten_reset_vector:
    jmp near __enlighten_reset16
    times 16 - ($ - $$) hlt

; At 0xFFFFFFE0: where an AP parked at the reset vector area would start; APs are not woken
; by this runtime, so it only stops them.
section .apentry progbits alloc exec nowrite align=16
bits 16
ap_entry:
    cli
.halt:
    hlt
    jmp .halt
    times 16 - ($ - $$) hlt

%endif ; LAYOUT_FIRMWARE
