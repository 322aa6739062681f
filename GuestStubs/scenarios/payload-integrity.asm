; payload-integrity.asm — what the host pre-populated into guest_memfd before making it
; private is exactly what the guest reads: a measured payload and an unmeasured one, each
; checksummed whole by the guest (the host compares each CHECKSUM with its own CRC32C of the
; planned bytes), and zero ranges that read as zero. No conversion is asked for; the platform
; only changes the identity the guest sees. Works in both layouts (in the firmware layout the
; payloads sit in the ROM, the zero ranges in RAM).
;
; Payloads: one 4 KiB page each, 512 qwords tag + offset ("MEAS" / "UNME" in the top half),
; so any byte that is wrong or misplaced changes the checksum, and a dump shows where each
; came from. Zero ranges: the 4 pages of .payload.zero and the 2 MiB PLAN_ZERO zero-area;
; three qwords (first, middle, last) of every .payload.zero page and of 8 pages spread over
; the zero-area, first and last included, are sampled.
;
; Records: VALUE payload.platform; CHECKSUM payload.measured (the whole .payload.measured
; group), payload.unmeasured (the whole .payload.unmeasured group); CHECK
; payload.measured.first / .last and payload.unmeasured.first / .last (the qwords the image
; holds there), payload.zero.nonzero (0 sampled qwords not zero), payload.zero-area.nonzero
; (0).

%include "enlighten.inc"
%include "interfaces.inc"
%include "scenario.inc"

PAYLOAD_SIZE    equ EN_PAGE_SIZE        ; each payload fills its 4 KiB group exactly
PAYLOAD_QWORDS  equ PAYLOAD_SIZE / 8
MEASURED_TAG    equ 0x4D45415300000000  ; "MEAS" in the top half, the offset below it
UNMEASURED_TAG  equ 0x554E4D4500000000  ; "UNME"
ZERO_PAGES      equ 4
ZERO_AREA_START equ 0x400000
ZERO_AREA_SIZE  equ 0x200000
ZERO_AREA_SAMPLED equ 8                 ; pages sampled in the zero-area, first and last included
ZERO_AREA_STRIDE equ (ZERO_AREA_SIZE - EN_PAGE_SIZE) / (ZERO_AREA_SAMPLED - 1)
SAMPLE_FIRST    equ 0
SAMPLE_MIDDLE   equ EN_PAGE_SIZE / 2
SAMPLE_LAST     equ EN_PAGE_SIZE - 8

%if ZERO_AREA_STRIDE % EN_PAGE_SIZE || ZERO_AREA_STRIDE * (ZERO_AREA_SAMPLED - 1) != ZERO_AREA_SIZE - EN_PAGE_SIZE
  %error the zero-area samples must be whole pages reaching the last page
%endif

PLAN_RANGE ZERO_AREA_START, ZERO_AREA_START + ZERO_AREA_SIZE, PLAN_ZERO, PLAN_PRIVATE, "zero-area"

EN_SECTION_PAYLOAD_MEASURED
measured:
%assign offset 0
%rep PAYLOAD_QWORDS
    dq MEASURED_TAG + offset
    %assign offset offset + 8
%endrep
%if $ - measured != PAYLOAD_SIZE
  %error measured payload size
%endif

EN_SECTION_PAYLOAD_UNMEASURED
unmeasured:
%assign offset 0
%rep PAYLOAD_QWORDS
    dq UNMEASURED_TAG + offset
    %assign offset offset + 8
%endrep
%if $ - unmeasured != PAYLOAD_SIZE
  %error unmeasured payload size
%endif

EN_SECTION_PAYLOAD_ZERO
zero_pages:     resb ZERO_PAGES * EN_PAGE_SIZE

section .rodata
measured_name:      db "payload.measured", 0
unmeasured_name:    db "payload.unmeasured", 0

section .text

; sampled_nonzero(rdi = first page, esi = pages, rdx = bytes from one sampled page to the
; next) -> rax = sampled qwords (first, middle, last of each page) that are not zero.
sampled_nonzero:
    xor eax, eax
.page:
    xor ecx, ecx
    cmp qword [rdi + SAMPLE_FIRST], 0
    setne cl
    add rax, rcx
    cmp qword [rdi + SAMPLE_MIDDLE], 0
    setne cl
    add rax, rcx
    cmp qword [rdi + SAMPLE_LAST], 0
    setne cl
    add rax, rcx
    add rdi, rdx
    dec esi
    jnz .page
    ret

scenario:
    call en_platform
    VALUE "payload.platform", rax

    ; The image is identity-mapped, so a payload's address is its GPA.
    lea rdi, [rel measured_name]
    lea rsi, [rel measured]
    mov edx, PAYLOAD_SIZE
    call en_checksum
    lea rdi, [rel unmeasured_name]
    lea rsi, [rel unmeasured]
    mov edx, PAYLOAD_SIZE
    call en_checksum

    ; Two qwords each, compared with what this file put there: a failing checksum then says
    ; whether the payload is missing, shifted or only partly wrong.
    mov rbx, MEASURED_TAG
    EXPECT "payload.measured.first", [rel measured], rbx
    mov rbx, MEASURED_TAG + PAYLOAD_SIZE - 8
    EXPECT "payload.measured.last", [rel measured + PAYLOAD_SIZE - 8], rbx
    mov rbx, UNMEASURED_TAG
    EXPECT "payload.unmeasured.first", [rel unmeasured], rbx
    mov rbx, UNMEASURED_TAG + PAYLOAD_SIZE - 8
    EXPECT "payload.unmeasured.last", [rel unmeasured + PAYLOAD_SIZE - 8], rbx

    mov edi, zero_pages                 ; RAM: an absolute address (enlighten.inc)
    mov esi, ZERO_PAGES
    mov edx, EN_PAGE_SIZE
    call sampled_nonzero
    EXPECT "payload.zero.nonzero", rax, 0

    mov edi, ZERO_AREA_START
    mov esi, ZERO_AREA_SAMPLED
    mov edx, ZERO_AREA_STRIDE
    call sampled_nonzero
    EXPECT "payload.zero-area.nonzero", rax, 0
    ret
