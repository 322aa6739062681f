; plan.asm — the population plan entries for the image's own section groups.
;
; The bounds are linker-script symbols (Linker/direct64.ld, Linker/firmware.ld); ld.lld
; resolves the absolute relocations even though .enlighten.plan is not allocated. A group
; that is empty has start == end and the builder drops it. "rom-top" is the firmware ROM
; above the payloads up to 4 GiB (the gap, .text16, .footer, .apentry, .resetvector); in
; direct64 both its bounds are 0.

%include "internal.inc"

extern __image_start, __image_end
extern __payload_measured_start, __payload_measured_end
extern __payload_unmeasured_start, __payload_unmeasured_end
extern __zero_start, __zero_end
extern __shared_start, __shared_end
extern __bss_start, __bss_end
extern __rom_top_start, __rom_top_end

PLAN_RANGE __image_start, __image_end, PLAN_MEASURED, PLAN_PRIVATE, "image"
PLAN_RANGE __payload_measured_start, __payload_measured_end, PLAN_MEASURED, PLAN_PRIVATE, "payload.measured"
PLAN_RANGE __payload_unmeasured_start, __payload_unmeasured_end, PLAN_UNMEASURED, PLAN_PRIVATE, "payload.unmeasured"
PLAN_RANGE __rom_top_start, __rom_top_end, PLAN_MEASURED, PLAN_PRIVATE, "rom-top"
PLAN_RANGE __zero_start, __zero_end, PLAN_ZERO, PLAN_PRIVATE, "zero"
PLAN_RANGE __shared_start, __shared_end, PLAN_SHARED, PLAN_SHARED_START, "shared"
PLAN_RANGE __bss_start, __bss_end, PLAN_ZERO, PLAN_PRIVATE, "bss"
