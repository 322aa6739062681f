/*
 * trap-snp.c — the least a VMM must do for an SEV-SNP guest whose private memory it enforces
 * itself, as the runner does where KVM cannot (docs/benchmarks.md): guest_memfd seen at two
 * GPAs, the private view at GPA | C-bit (memslot 0) and the shared view at GPA (memslot 2),
 * the boot page tables given the C-bit, PVALIDATE and VMGEXIT trapped at hardware
 * breakpoints, the GHCB MSR a user-space MSR, and for each request the same host work the
 * runner's conversion service does, each view change being two mprotects (private view,
 * then shared view):
 *   PVALIDATE rescind: both views closed (private, not validated);
 *   PVALIDATE validate: the private view open; the first validation since a PSC assigned the
 *                      page also fills it through the host's mapping, as the runner writes
 *                      what the zeroed page decrypts to (MemoryEncryption): the same write
 *                      fault into the punched page, with a constant instead of the keystream;
 *   PSC to shared:      PUNCH_HOLE on guest_memfd, the shared view open;
 *   PSC to private:     PUNCH_HOLE, both views closed (private, not validated);
 * the PSC answered in the GHCB as KVM leaves it; an IOIO NAE event (the runtime's presence
 * read, records and exit code, the stub's POST writes) answered the same way, the presence
 * byte for an IN of the record port, the exit code ending the loop. Also served, once: the
 * MSR-protocol SEV_INFO, REGISTER_GHCB and CPUID requests the runtime sends, and SEV_STATUS. No decoding beyond that,
 * no bookkeeping: a floor. PVALIDATE's GVA is taken as its GPA (the runtime identity-maps
 * RAM; the runner walks the guest's tables).
 */
#define _GNU_SOURCE /* fallocate */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "floor.h"

#define FLOOR_FALLOC_PUNCH_HOLE_KEEP_SIZE 0x03
#define FLOOR_SHARED_SLOT 2

/* The C-bit the runner reports (GHCBHost.cBitPosition: bit 47) under MAXPHYADDR 48. */
#define FLOOR_CBIT_POSITION 47
#define FLOOR_CBIT (1ull << FLOOR_CBIT_POSITION)
#define FLOOR_PHYSICAL_BITS 48

/* CPUID (Linux arch/x86/include/asm/cpufeatures.h word 19 = 0x8000001F EAX: SEV bit 1,
 * SEV_ES bit 3, SEV_SNP bit 4; EBX[5:0] the C-bit position) and 0x80000008 EAX[7:0]
 * MAXPHYADDR, [23:16] guest physical address width. */
#define FLOOR_CPUID_EXTENDED_MAX 0x80000000u
#define FLOOR_CPUID_ADDRESS_SIZES 0x80000008u
#define FLOOR_CPUID_SEV 0x8000001Fu
#define FLOOR_CPUID_SEV_FEATURES (1u << 1 | 1u << 3 | 1u << 4)

/* MSRs (Linux arch/x86/include/asm/msr-index.h): MSR_AMD64_SEV_ES_GHCB, MSR_AMD64_SEV with
 * SEV, SEV-ES and SNP enabled (bits 0, 1, 2). */
#define FLOOR_MSR_GHCB 0xC0010130u
#define FLOOR_MSR_SEV_STATUS 0xC0010131u
#define FLOOR_SEV_STATUS_SNP 0x7u

/* GHCB MSR protocol (Linux arch/x86/include/asm/sev-common.h). */
#define FLOOR_GHCB_INFO_MASK 0xFFFull
#define FLOOR_GHCB_SEV_INFO_REQ 0x002
#define FLOOR_GHCB_SEV_INFO_RESP 0x001 /* [63:48] max protocol, [47:32] min, [31:24] C-bit */
#define FLOOR_GHCB_REG_GPA_REQ 0x012
#define FLOOR_GHCB_REG_GPA_RESP 0x013
#define FLOOR_GHCB_PROTOCOL 2ull
#define FLOOR_GHCB_CPUID_REQ 0x004 /* [63:32] leaf, [31:30] register (0 EAX .. 3 EDX) */
#define FLOOR_GHCB_CPUID_RESP 0x005 /* [63:32] the register */

/* The GHCB page (Linux arch/x86/include/asm/svm.h struct ghcb_save_area; a field's valid bit
 * is its offset / 8, GHCB_BITMAP_IDX) and the PSC NAE event (sev-common.h: SVM_VMGEXIT_PSC,
 * struct psc_hdr {u16 cur_entry, end_entry; u32 reserved}, struct psc_entry {cur_page:12,
 * gfn:40, operation:4, pagesize:1}). */
#define FLOOR_GHCB_RAX 0x1F8
#define FLOOR_GHCB_RCX 0x308
#define FLOOR_GHCB_RDX 0x310
#define FLOOR_GHCB_RBX 0x318
#define FLOOR_GHCB_EXIT_CODE 0x390
#define FLOOR_GHCB_EXIT_INFO_1 0x398
#define FLOOR_GHCB_EXIT_INFO_2 0x3A0
#define FLOOR_GHCB_SCRATCH 0x3A8
#define FLOOR_GHCB_VALID_BITMAP 0x3F0
#define FLOOR_SVM_VMGEXIT_PSC 0x80000010ull
#define FLOOR_SVM_EXIT_IOIO 0x7Bull
#define FLOOR_PSC_OP_PRIVATE 1
#define FLOOR_PSC_OP_SHARED 2
#define FLOOR_PSC_2M (1ull << 56)

/* The instructions at the trapped sites, both 4 bytes: PVALIDATE (Linux asm/sev.h
 * pvalidate(): .byte 0xF2,0x0F,0x01,0xFF) and VMGEXIT (rep vmmcall). */
static const uint8_t pvalidate_bytes[4] = { 0xF2, 0x0F, 0x01, 0xFF };
static const uint8_t vmgexit_bytes[4] = { 0xF3, 0x0F, 0x01, 0xD9 };
#define FLOOR_SITE_LENGTH 4
#define FLOOR_ASSIGNED_FILL 0xA5
#define FLOOR_RFLAGS_CF 1ull

struct kvm_cpuid_entry2 *floor_cpuid_leaf(struct kvm_cpuid2 *cpuid, uint32_t spare, uint32_t *used, uint32_t function) {
    for (uint32_t i = 0; i < cpuid->nent; i++) {
        if (cpuid->entries[i].function == function) return &cpuid->entries[i];
    }
    if (*used == spare) return NULL;
    (*used)++;
    struct kvm_cpuid_entry2 *entry = &cpuid->entries[cpuid->nent++];
    memset(entry, 0, sizeof *entry);
    entry->function = function;
    return entry;
}

/* The CPUID the runner gives an SNP guest (CPUIDTable): the SEV leaf, reachable, and a
 * physical address width that makes the C-bit an address bit. */
static int snp_cpuid(struct kvm_cpuid2 *cpuid, uint32_t spare) {
    uint32_t used = 0;
    struct kvm_cpuid_entry2 *maximum = floor_cpuid_leaf(cpuid, spare, &used, FLOOR_CPUID_EXTENDED_MAX);
    struct kvm_cpuid_entry2 *sizes = floor_cpuid_leaf(cpuid, spare, &used, FLOOR_CPUID_ADDRESS_SIZES);
    struct kvm_cpuid_entry2 *sev = floor_cpuid_leaf(cpuid, spare, &used, FLOOR_CPUID_SEV);
    if (!maximum || !sizes || !sev) return -1;
    if (maximum->eax < FLOOR_CPUID_SEV) maximum->eax = FLOOR_CPUID_SEV;
    uint32_t physical = sizes->eax & 0xFF, guest = (sizes->eax >> 16) & 0xFF;
    if (physical < FLOOR_PHYSICAL_BITS) physical = FLOOR_PHYSICAL_BITS;
    if (guest < FLOOR_PHYSICAL_BITS) guest = FLOOR_PHYSICAL_BITS;
    sizes->eax = (sizes->eax & 0xFF00FF00u) | physical | guest << 16;
    *sev = (struct kvm_cpuid_entry2){ .function = FLOOR_CPUID_SEV, .eax = FLOOR_CPUID_SEV_FEATURES, .ebx = FLOOR_CBIT_POSITION };
    return 0;
}

const struct floor_platform floor_snp_platform = { .ram_gpa = FLOOR_CBIT, .cpuid = snp_cpuid };

/* The runtime's boot tables as an SNP VMM hands them over (the runner's SNPBootPaging): every
 * 2 MiB leaf has bit 47 flipped (identity view private, the alias at PA | 1 << 47 shared) and
 * every table pointer gains the C-bit; a table reached twice is rewritten once. */
#define FLOOR_MAX_TABLES 64
struct tables_seen {
    uint64_t table[FLOOR_MAX_TABLES];
    int count;
};

static int encrypt_tables(struct floor_vm *vm, uint64_t table, int level, struct tables_seen *seen) {
    for (int i = 0; i < seen->count; i++) {
        if (seen->table[i] == table) return 0;
    }
    if (seen->count == FLOOR_MAX_TABLES) { errno = E2BIG; return floor_error("page tables"); }
    seen->table[seen->count++] = table;
    if (table > vm->memory_size - 4096) { errno = EINVAL; return floor_error("page table outside RAM"); }
    uint64_t *entries = (uint64_t *)(vm->host + table);
    for (int i = 0; i < 512; i++) {
        uint64_t entry = entries[i];
        if (!(entry & 1)) continue;
        if (level == 2 && (entry & 0x80)) {
            entries[i] = entry ^ FLOOR_CBIT;
        } else if (level > 2 || (level == 2 && !(entry & 0x80))) {
            if (level == 2) { errno = EINVAL; return floor_error("a 4 KiB page table (not the runtime's tables)"); }
            if (encrypt_tables(vm, entry & 0x000FFFFFFFFFF000ull & ~FLOOR_CBIT, level - 1, seen) != 0) return -1;
            entries[i] = entry | FLOOR_CBIT;
        } else {
            errno = EINVAL;
            return floor_error("a 1 GiB leaf (not the runtime's tables)");
        }
    }
    return 0;
}

/* After floor_vm_create with floor_snp_platform: the shared view and the host's mapping, the
 * tables and CR3 with the C-bit, the GHCB MSR as a user-space MSR. Everything starts private
 * and validated (the private view open), as the runner's plan has the pages the loop uses;
 * the GHCB's shared view opens when the guest registers it. */
int floor_snp_views(struct floor_vm *vm, const struct floor_image *image) {
    vm->shared = mmap(NULL, vm->memory_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->gmem, 0);
    if (vm->shared == MAP_FAILED) { vm->shared = NULL; return floor_error("mmap(shared view)"); }
    vm->host = mmap(NULL, vm->memory_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->gmem, 0);
    if (vm->host == MAP_FAILED) { vm->host = NULL; return floor_error("mmap(host view)"); }
    struct kvm_userspace_memory_region region = {
        .slot = FLOOR_SHARED_SLOT, .guest_phys_addr = 0, .memory_size = vm->memory_size,
        .userspace_addr = (uint64_t)(uintptr_t)vm->shared,
    };
    if (ioctl(vm->vm, KVM_SET_USER_MEMORY_REGION, &region) != 0) return floor_error("KVM_SET_USER_MEMORY_REGION(shared view)");
    if (mprotect(vm->shared, vm->memory_size, PROT_NONE) != 0) return floor_error("mprotect");

    struct tables_seen seen = { .count = 0 };
    if (encrypt_tables(vm, image->cr3, 4, &seen) != 0) return -1;
    struct kvm_sregs sregs;
    if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs) != 0) return floor_error("KVM_GET_SREGS");
    sregs.cr3 |= FLOOR_CBIT;
    if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) != 0) return floor_error("KVM_SET_SREGS");

    struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_USER_SPACE_MSR };
    cap.args[0] = KVM_MSR_EXIT_REASON_INVAL | KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_FILTER;
    if (ioctl(vm->vm, KVM_ENABLE_CAP, &cap) != 0) return floor_error("KVM_ENABLE_CAP(X86_USER_SPACE_MSR)");
    return 0;
}

/* The GHCB MSR and SEV_STATUS; any other MSR is refused (#GP), as the runner does. */
int floor_snp_msr(struct floor_vm *vm) {
    struct kvm_run *run = vm->run;
    if (run->exit_reason == KVM_EXIT_X86_RDMSR) {
        if (run->msr.index == FLOOR_MSR_GHCB) run->msr.data = vm->ghcb_msr;
        else if (run->msr.index == FLOOR_MSR_SEV_STATUS) run->msr.data = FLOOR_SEV_STATUS_SNP;
        else run->msr.error = 1;
    } else if (run->msr.index == FLOOR_MSR_GHCB) {
        vm->ghcb_msr = run->msr.data;
    } else {
        run->msr.error = 1;
    }
    return 0;
}

static uint64_t *ghcb_field(struct floor_vm *vm, unsigned offset) { return (uint64_t *)(vm->host + vm->ghcb_gpa + offset); }

static void mark_valid(uint64_t *bitmap, unsigned offset) { bitmap[offset / 8 / 64] |= 1ull << (offset / 8 % 64); }

/* The MSR-protocol requests ghcb_init makes. */
static int msr_protocol(struct floor_vm *vm) {
    switch (vm->ghcb_msr & FLOOR_GHCB_INFO_MASK) {
    case FLOOR_GHCB_SEV_INFO_REQ:
        vm->ghcb_msr = FLOOR_GHCB_PROTOCOL << 48 | FLOOR_GHCB_PROTOCOL << 32 | (uint64_t)FLOOR_CBIT_POSITION << 24 | FLOOR_GHCB_SEV_INFO_RESP;
        return 0;
    case FLOOR_GHCB_REG_GPA_REQ: {
        uint64_t gpa = vm->ghcb_msr & ~FLOOR_GHCB_INFO_MASK;
        if (floor_inside(vm, gpa, 4096) != 0) return -1;
        vm->ghcb_gpa = gpa;
        vm->ghcb_msr = gpa | FLOOR_GHCB_REG_GPA_RESP;
        return floor_views(vm, gpa, 4096, 0, 1);    /* the GHCB is shared memory */
    }
    case FLOOR_GHCB_CPUID_REQ: { /* the C-bit position the runner reports, else the host's */
        unsigned leaf = (unsigned)(vm->ghcb_msr >> 32), reg = (unsigned)(vm->ghcb_msr >> 30) & 3, r[4] = { 0 };
        __cpuid_count(leaf, 0, r[0], r[1], r[2], r[3]);
        if (leaf == FLOOR_CPUID_SEV && reg == 1) r[1] = FLOOR_CBIT_POSITION;
        vm->ghcb_msr = (uint64_t)r[reg] << 32 | FLOOR_GHCB_CPUID_RESP;
        return 0;
    }
    default:
        errno = EINVAL;
        return floor_error("GHCB MSR request the floor does not serve");
    }
}

/* The GHCB as KVM leaves it after an event: the valid bitmap cleared, RAX/RBX/RCX/RDX (0: not
 * sent) and SW_EXITINFO1/2 = 0 written and marked valid. */
static void answer_ghcb(struct floor_vm *vm) {
    uint64_t *bitmap = ghcb_field(vm, FLOOR_GHCB_VALID_BITMAP);
    bitmap[0] = bitmap[1] = 0;
    static const unsigned answered[] = { FLOOR_GHCB_RAX, FLOOR_GHCB_RBX, FLOOR_GHCB_RCX, FLOOR_GHCB_RDX, FLOOR_GHCB_EXIT_INFO_1, FLOOR_GHCB_EXIT_INFO_2 };
    for (unsigned i = 0; i < sizeof answered / sizeof answered[0]; i++) {
        *ghcb_field(vm, answered[i]) = 0;
        mark_valid(bitmap, answered[i]);
    }
}

/* An IOIO NAE event other than a string one (SW_EXITINFO1 STR bit 2, REP bit 3 clear): an IN
 * of the record port reads the presence byte, an OUT of the exit port ends the loop, the rest
 * is dropped; answered as KVM leaves the GHCB. */
static int forwarded_io(struct floor_vm *vm) {
    uint64_t info = *ghcb_field(vm, FLOOR_GHCB_EXIT_INFO_1), value = *ghcb_field(vm, FLOOR_GHCB_RAX);
    unsigned port = (unsigned)(info >> 16) & 0xFFFF;
    if (info & 0xC) { errno = EINVAL; return floor_error("IOIO string or REP"); }
    answer_ghcb(vm);
    if (info & 1) {
        if (port == FLOOR_PORT_RECORD) *ghcb_field(vm, FLOOR_GHCB_RAX) = FLOOR_HOST_PRESENT;
    } else if (port == FLOOR_PORT_EXIT) {
        vm->exited = 1;
        vm->exit_code = (uint32_t)value;
    }
    vm->forwarded++;
    return 0;
}

/* A GHCB-page VMGEXIT: the IOIO event above, or one PSC NAE event with one 4 KiB entry,
 * answered as KVM leaves the GHCB: cur_page and cur_entry advanced, then answer_ghcb. */
static int ghcb_event(struct floor_vm *vm) {
    if (vm->ghcb_gpa == 0 || vm->ghcb_msr != vm->ghcb_gpa) {
        errno = EINVAL;
        return floor_error("VMGEXIT the floor does not serve");
    }
    if (*ghcb_field(vm, FLOOR_GHCB_EXIT_CODE) == FLOOR_SVM_EXIT_IOIO) return forwarded_io(vm);
    if (*ghcb_field(vm, FLOOR_GHCB_EXIT_CODE) != FLOOR_SVM_VMGEXIT_PSC) {
        errno = EINVAL;
        return floor_error("VMGEXIT the floor does not serve");
    }
    uint64_t scratch = *ghcb_field(vm, FLOOR_GHCB_SCRATCH);
    if (floor_inside(vm, scratch, 16) != 0) return -1;
    uint16_t *header = (uint16_t *)(vm->host + scratch);
    uint64_t *entry = (uint64_t *)(vm->host + scratch + 8);
    if (header[0] != 0 || header[1] != 0 || (*entry & (FLOOR_PSC_2M | 0xFFF))) {
        errno = EINVAL;
        return floor_error("PSC other than one 4 KiB entry");
    }
    uint64_t gpa = *entry & 0x000FFFFFFFFFF000ull, operation = (*entry >> 52) & 0xF;
    if (floor_inside(vm, gpa, 4096) != 0) return -1;
    if (operation != FLOOR_PSC_OP_PRIVATE && operation != FLOOR_PSC_OP_SHARED) { errno = EINVAL; return floor_error("PSC operation"); }
    if (fallocate(vm->gmem, FLOOR_FALLOC_PUNCH_HOLE_KEEP_SIZE, (off_t)gpa, 4096) != 0) return floor_error("fallocate");
    if (floor_views(vm, gpa, 4096, 0, operation == FLOOR_PSC_OP_SHARED) != 0) return -1;
    vm->assigned = operation == FLOOR_PSC_OP_PRIVATE ? gpa | 1 : 0;
    *entry |= 1;        /* cur_page */
    header[0] = 1;      /* cur_entry */
    answer_ghcb(vm);
    vm->conversions++;
    return 0;
}

/* PVALIDATE of one 4 KiB page (RAX GVA, RCX 0, RDX validate): RAX 0, CF clear. */
static int pvalidate(struct floor_vm *vm, struct kvm_regs *regs) {
    uint64_t gpa = regs->rax & ~0xFFFull;
    if (regs->rcx != 0 || regs->rdx > 1) { errno = EINVAL; return floor_error("PVALIDATE other than 4 KiB"); }
    if (floor_inside(vm, gpa, 4096) != 0) return -1;
    if (regs->rdx == 1 && vm->assigned == (gpa | 1)) {
        memset(vm->host + gpa, FLOOR_ASSIGNED_FILL, 4096);
        vm->assigned = 0;
    }
    if (floor_views(vm, gpa, 4096, regs->rdx == 1, 0) != 0) return -1;
    regs->rax = 0;
    regs->rflags &= ~FLOOR_RFLAGS_CF;
    vm->validations++;
    return 0;
}

/* Serves the PVALIDATE or VMGEXIT the vCPU stopped at. */
int floor_snp_serve(struct floor_vm *vm) {
    struct kvm_regs *regs = &vm->run->s.regs.regs;
    uint64_t pc = vm->run->debug.arch.pc;
    if (floor_inside(vm, pc, FLOOR_SITE_LENGTH) != 0) return -1;
    const uint8_t *code = vm->host + pc;
    int result;
    if (memcmp(code, pvalidate_bytes, FLOOR_SITE_LENGTH) == 0) {
        result = pvalidate(vm, regs);
    } else if (memcmp(code, vmgexit_bytes, FLOOR_SITE_LENGTH) == 0) {
        result = vm->ghcb_msr & FLOOR_GHCB_INFO_MASK ? msr_protocol(vm) : ghcb_event(vm);
    } else {
        errno = EINVAL;
        result = floor_error("breakpoint on neither PVALIDATE nor VMGEXIT");
    }
    if (result != 0) return -1;
    regs->rip += FLOOR_SITE_LENGTH;
    vm->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
    return 0;
}
