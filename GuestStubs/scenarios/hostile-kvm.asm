; hostile-kvm.asm — malformed KVM_HC_MAP_GPA_RANGE requests (KVM platform only). Each must
; come back with its error in rax, and the guest carries on; a valid request afterwards must
; still work.
;
; Expected values:
;   - unaligned gpa, npages 0, gfn + npages wrapping: -KVM_EINVAL, KVM's own checks
;     (arch/x86/kvm/x86.c: !PAGE_ALIGNED(gpa) || !npages || gpa_to_gfn(gpa) + npages <= gfn).
;   - attribute bits above bit 4: KVM passes them on unchecked; Enlighten's host refuses them
;     with -KVM_EINVAL (its documented policy, Sources/GuestABI/MapGPARange.swift).
;   - a GPA outside every memslot: KVM leaves it to the VMM; Enlighten's host answers
;     -KVM_EFAULT (the range is not guest memory).
;
; Records: CHECK kvm.platform (1), kvm.unaligned.rax, kvm.zero_pages.rax, kvm.wrap.rax,
; kvm.reserved_attrs.rax (each -22 = 0xFFFFFFFFFFFFFFEA), kvm.unbacked.rax (-14 =
; 0xFFFFFFFFFFFFFFF2), kvm.after_hostile.to_shared.rax (0), kvm.after_hostile.to_private.rax (0).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

AREA_START      equ 0x400000
AREA_SIZE       equ 0x200000
MISALIGN        equ 0x800                       ; half a page
ALL_PAGES       equ -1                          ; gfn + npages wraps for any gfn > 0
RESERVED_ATTR   equ 1 << 8                      ; above ENC_STAT (bit 4): undefined

PLAN_RANGE AREA_START, AREA_START + AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "hostile-area"

section .text
scenario:
    REQUIRE_PLATFORM EN_PLATFORM_KVM, "kvm.platform"
    mov r12, KVM_RET_EINVAL

    mov edi, AREA_START + MISALIGN
    mov esi, 1
    mov edx, KVM_MAP_GPA_RANGE_ENCRYPTED
    call kvm_map_gpa_range
    EXPECT "kvm.unaligned.rax", rax, r12

    mov edi, AREA_START
    xor esi, esi
    mov edx, KVM_MAP_GPA_RANGE_ENCRYPTED
    call kvm_map_gpa_range
    EXPECT "kvm.zero_pages.rax", rax, r12

    mov edi, AREA_START
    mov rsi, ALL_PAGES
    mov edx, KVM_MAP_GPA_RANGE_ENCRYPTED
    call kvm_map_gpa_range
    EXPECT "kvm.wrap.rax", rax, r12

    mov edi, AREA_START
    mov esi, 1
    mov edx, KVM_MAP_GPA_RANGE_ENCRYPTED | RESERVED_ATTR
    call kvm_map_gpa_range
    EXPECT "kvm.reserved_attrs.rax", rax, r12

    mov rdi, EN_UNBACKED_GPA
    mov esi, 1
    mov edx, KVM_MAP_GPA_RANGE_ENCRYPTED
    call kvm_map_gpa_range
    mov rbx, KVM_RET_EFAULT
    EXPECT "kvm.unbacked.rax", rax, rbx

    ; Still served after all that.
    mov edi, AREA_START
    mov esi, 1
    mov edx, KVM_MAP_GPA_RANGE_DECRYPTED
    call kvm_map_gpa_range
    EXPECT "kvm.after_hostile.to_shared.rax", rax, 0
    mov edi, AREA_START
    mov esi, 1
    mov edx, KVM_MAP_GPA_RANGE_ENCRYPTED
    call kvm_map_gpa_range
    EXPECT "kvm.after_hostile.to_private.rax", rax, 0
    ret
