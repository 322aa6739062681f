; pagetables.asm — the static 4-level page tables both layouts run on (section .pagetables).
;
; Exports __enlighten_pml4 (the CR3 value; the host loads it for direct64, the reset path for
; firmware), and __enlighten_identity_pdpt and __enlighten_identity_pds, which an SEV-SNP
; guest rewrites to give its identity view the C-bit (the firmware reset path, reset16.asm;
; for direct64 the VMM hands the tables over so). Each is followed by its alias twin.
; Maps, with 2 MiB pages:
;   virtual 0 .. 4 GiB                    -> physical 0 .. 4 GiB            (identity)
;   virtual 0xFFFF800000000000 + x        -> physical x | 1 << 47           (TDX shared alias)
; Accessed is preset in every entry and Dirty in every leaf, so the page walker never writes
; the tables: they may sit in ROM. Touching the alias where bit 47 exceeds MAXPHYADDR faults
; (reserved bit), which is the point: only a TDX-like guest should use it.

%include "internal.inc"

global __enlighten_pml4
global __enlighten_identity_pds
global __enlighten_identity_pdpt

PTE_PRESENT     equ 1 << 0
PTE_WRITABLE    equ 1 << 1
PTE_ACCESSED    equ 1 << 5
PTE_DIRTY       equ 1 << 6
PTE_LARGE       equ 1 << 7              ; in a PD entry: maps a 2 MiB page
TABLE_ENTRY     equ PTE_PRESENT | PTE_WRITABLE | PTE_ACCESSED
LARGE_PAGE      equ PTE_PRESENT | PTE_WRITABLE | PTE_ACCESSED | PTE_DIRTY | PTE_LARGE

ENTRIES         equ 512                 ; per 4 KiB table
LARGE_SHIFT     equ 21                  ; 2 MiB
MAPPED_GIB      equ EN_MAPPED_GIB       ; one PD per GiB
PML4_SHARED     equ 256                 ; EN_SHARED_ALIAS_BASE >> 39, within 9 bits

; Four page directories mapping physical (0 .. 4 GiB) | %1 with 2 MiB pages.
%macro LOW_4GIB_PDS 1
  %assign page 0
  %rep MAPPED_GIB * ENTRIES
    dq (page << LARGE_SHIFT) | (%1) | LARGE_PAGE
    %assign page page + 1
  %endrep
%endmacro

; A PDPT whose first four entries point at four consecutive PDs starting at %1.
%macro PDPT_TO 1
  %assign gib 0
  %rep MAPPED_GIB
    dq %1 + gib * EN_PAGE_SIZE + TABLE_ENTRY
    %assign gib gib + 1
  %endrep
    times ENTRIES - MAPPED_GIB dq 0
%endmacro

section .pagetables progbits alloc noexec write align=4096

__enlighten_pml4:
    dq identity_pdpt + TABLE_ENTRY                      ; PML4[0]: low 512 GiB
    times PML4_SHARED - 1 dq 0
    dq shared_pdpt + TABLE_ENTRY                        ; PML4[256]: the shared alias
    times ENTRIES - PML4_SHARED - 1 dq 0

identity_pdpt:
__enlighten_identity_pdpt:
    PDPT_TO identity_pds
shared_pdpt:
    PDPT_TO shared_pds

%if shared_pdpt - identity_pdpt != EN_PAGE_SIZE
  %error the alias PDPT must follow the identity PDPT (reset16.asm relies on it)
%endif

identity_pds:
__enlighten_identity_pds:
    LOW_4GIB_PDS 0
shared_pds:
    LOW_4GIB_PDS EN_TDX_SHARED_BIT

%if shared_pds - identity_pds != EN_ALIAS_PDS_OFFSET || MAPPED_GIB * ENTRIES != EN_PD_LEAVES
  %error the alias PDs must follow the identity PDs as internal.inc says (reset16.asm relies on it)
%endif
%if EN_TDX_SHARED_BIT != 1 << EN_ALIAS_LEAF_BIT
  %error EN_ALIAS_LEAF_BIT does not match EN_TDX_SHARED_BIT
%endif

%if EN_SHARED_ALIAS_BASE != 0xFFFF000000000000 | (PML4_SHARED << 39)
  %error PML4_SHARED does not match EN_SHARED_ALIAS_BASE
%endif
