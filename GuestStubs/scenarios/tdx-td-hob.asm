; tdx-td-hob.asm — the guest's side of the TD HOB a TDX VMM writes for TDVF (firmware layout,
; --platform tdx): it parses the HOB list at the TD_HOB section as TDVF does before using the
; memory it describes (PI specification HOB formats; edk2 MdePkg/Include/Pi/PiHob.h).
;
; PHIT (EFI_HOB_HANDOFF_INFO_TABLE): type 1, length 56, reserved 0, version 9, EfiEndOfHobList
; just past the end-of-list HOB. Every HOB: length a multiple of 8, at least 8, inside the
; section. Resource descriptors (type 3, length 48): SYSTEM_MEMORY (0) or MEMORY_UNACCEPTED (7)
; with attributes PRESENT|INITIALIZED|TESTED, in address order and contiguous from GPA 0, none
; overlapping the firmware ROM (4 GiB − 2 MiB .. 4 GiB); the one holding the HOB itself is
; SYSTEM_MEMORY (the VMM added it). Then, as TDVF does before it uses memory the HOB calls
; unaccepted, it accepts the first page of the last MEMORY_UNACCEPTED range (TDG.MEM.PAGE.ACCEPT
; through tdx_accept_range) and writes and reads it back.
;
; Records: CHECK launch.platform (3), tdhob.phit.type (1), tdhob.phit.length (56),
; tdhob.phit.version (9), tdhob.walk.malformed (0), tdhob.end_of_list (1: found where the PHIT
; says), tdhob.resources.bad (0), tdhob.resources.gaps (0), tdhob.rom_overlaps (0),
; tdhob.hob_memory_type (0); VALUE tdhob.resources, tdhob.ram_end; on an overlap VALUE
; tdhob.rom_overlap = the first overlapping descriptor's start; VALUE tdhob.accepted (the GPA),
; CHECK tdhob.accept (0), tdhob.accepted.readback (0).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

; Where our firmware images put the TD HOB (FirmwareTables.defaultTDHob; a test checks it).
TD_HOB_GPA              equ 0x80000
TD_HOB_END              equ 0x82000
ROM_BASE                equ 0xFFE00000
HOB_HANDOFF             equ 0x0001
HOB_RESOURCE            equ 0x0003
HOB_END_OF_LIST         equ 0xFFFF
HOB_HANDOFF_SIZE        equ 56
HOB_RESOURCE_SIZE       equ 48
HOB_HANDOFF_VERSION     equ 9
RESOURCE_SYSTEM_MEMORY  equ 0
RESOURCE_UNACCEPTED     equ 7
RESOURCE_ATTRIBUTES     equ 7

section .text

scenario:
    REQUIRE_PLATFORM EN_PLATFORM_TDX, "launch.platform"
    EN_SAVE_NONVOLATILE
    movzx eax, word [abs TD_HOB_GPA]
    EXPECT "tdhob.phit.type", rax, HOB_HANDOFF
    movzx eax, word [abs TD_HOB_GPA + 2]
    EXPECT "tdhob.phit.length", rax, HOB_HANDOFF_SIZE
    mov eax, [abs TD_HOB_GPA + 8]
    EXPECT "tdhob.phit.version", rax, HOB_HANDOFF_VERSION
    push qword [abs TD_HOB_GPA + 48]    ; [rsp]: EfiEndOfHobList
    xor r12d, r12d                      ; the last unaccepted range's start, 0: none yet

    mov ebx, TD_HOB_GPA                 ; the HOB being read
    xor r13d, r13d                      ; malformed HOBs
    xor r14d, r14d                      ; resource descriptors
    xor r15d, r15d                      ; the end of RAM described so far (next expected start)
    xor ebp, ebp                        ; bad descriptors (type, attributes, length)
    xor r8d, r8d                        ; gaps or overlaps between descriptors
    xor r9d, r9d                        ; descriptors overlapping the ROM
    mov r10, -1                         ; the type of the descriptor holding the HOB
    xor r11d, r11d                      ; end of list found where the PHIT says
.hob:
    movzx ecx, word [rbx + 2]           ; HobLength
    cmp ecx, 8
    jb .malformed
    test ecx, 7
    jnz .malformed
    lea rdx, [rbx + rcx]
    cmp rdx, TD_HOB_END
    ja .malformed
    movzx eax, word [rbx]
    cmp eax, HOB_END_OF_LIST
    je .end
    cmp eax, HOB_RESOURCE
    jne .next
    inc r14d
    cmp ecx, HOB_RESOURCE_SIZE
    jne .bad_resource
    cmp dword [rbx + 28], RESOURCE_ATTRIBUTES
    jne .bad_resource
    mov eax, [rbx + 24]                 ; ResourceType
    cmp eax, RESOURCE_SYSTEM_MEMORY
    je .typed
    cmp eax, RESOURCE_UNACCEPTED
    je .typed
.bad_resource:
    inc ebp
    jmp .next
.typed:
    mov rsi, [rbx + 32]                 ; PhysicalStart
    mov rdi, [rbx + 40]                 ; ResourceLength
    lea rdx, [rsi + rdi]                ; end
    ; Overlapping the ROM [ROM_BASE, 4 GiB)?
    mov rcx, 0x100000000
    cmp rsi, rcx
    jae .not_rom
    mov ecx, ROM_BASE
    cmp rdx, rcx
    jbe .not_rom
    test r9d, r9d
    jnz .counted
    push rdx
    push rsi
    VALUE "tdhob.rom_overlap", rsi
    pop rsi
    pop rdx
.counted:
    inc r9d
    jmp .next
.not_rom:
    cmp rsi, r15
    je .contiguous
    inc r8d
.contiguous:
    mov r15, rdx
    cmp dword [rbx + 24], RESOURCE_UNACCEPTED
    jne .not_unaccepted
    mov r12, rsi
.not_unaccepted:
    ; The descriptor holding the HOB itself.
    cmp rsi, TD_HOB_GPA
    ja .next
    cmp rdx, TD_HOB_GPA
    jbe .next
    mov r10d, [rbx + 24]
.next:
    movzx ecx, word [rbx + 2]
    add rbx, rcx
    jmp .hob
.malformed:
    inc r13d
    jmp .done
.end:
    lea rax, [rbx + 8]
    cmp rax, [rsp]
    sete r11b
.done:
    EXPECT "tdhob.walk.malformed", r13, 0
    EXPECT "tdhob.end_of_list", r11, 1
    VALUE "tdhob.resources", r14
    VALUE "tdhob.ram_end", r15
    EXPECT "tdhob.resources.bad", rbp, 0
    EXPECT "tdhob.resources.gaps", r8, 0
    EXPECT "tdhob.rom_overlaps", r9, 0
    EXPECT "tdhob.hob_memory_type", r10, RESOURCE_SYSTEM_MEMORY
    test r12, r12
    jz .accepted
    VALUE "tdhob.accepted", r12
    mov rdi, r12
    mov esi, EN_PAGE_SIZE
    call tdx_accept_range
    EXPECT "tdhob.accept", rax, 0
    mov rax, 0x544448_4F4200            ; "\0BOHDT": written after the accept, read back
    mov [r12], rax
    mov rdx, [r12]
    xor rdx, rax
    EXPECT "tdhob.accepted.readback", rdx, 0
.accepted:
    add rsp, 8
    EN_RESTORE_NONVOLATILE
    ret
