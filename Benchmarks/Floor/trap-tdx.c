/*
 * trap-tdx.c — the least a VMM must do for a TD whose private memory it enforces itself, as
 * the runner does where KVM cannot (docs/scenarios.md): TDCALL trapped at a hardware
 * breakpoint, and for each request the same host work the runner's conversion service does —
 *   MapGPA to shared:  PUNCH_HOLE on guest_memfd, close the private view, open the shared;
 *   MapGPA to private: MADV_REMOVE on the shared backing, close both views (the page is
 *                      pending);
 *   ACCEPT:            PUNCH_HOLE (an accepted page reads as zero), open the private view,
 *                      keep the shared one closed;
 *   Instruction.IO write (R11 30): R10 = SUCCESS, the byte dropped (the POST port);
 * TDG.VP.INFO answers GPAW 48. No decoding beyond that, no bookkeeping: a floor.
 */
#define _GNU_SOURCE /* fallocate */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "floor.h"

#define FLOOR_FALLOC_PUNCH_HOLE_KEEP_SIZE 0x03
#define FLOOR_TDCALL_LENGTH 4
#define FLOOR_TDX_SHARED_BIT (1ull << 47) /* GPAW 48 */
#define FLOOR_TDX_GPAW 48
#define FLOOR_SHARED_SLOT 2
#define FLOOR_TDVMCALL_IO 30 /* Instruction.IO: the exit reason (uapi asm/vmx.h EXIT_REASON_IO_INSTRUCTION) */

int floor_tdx_views(struct floor_vm *vm, const struct floor_image *image) {
    (void)image;
    /* The runner's layout, so a discard unmaps from as many mappings as there: the shared
     * backing is a memfd mapped twice (the guest's view, and the host's that MADV_REMOVE goes
     * through), and guest_memfd has a host mapping of its own beside the memslot's. */
    vm->host = mmap(NULL, vm->memory_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->gmem, 0);
    if (vm->host == MAP_FAILED) { vm->host = NULL; return floor_error("mmap(host view)"); }
    vm->shared_fd = memfd_create("floor-shared", 0);
    if (vm->shared_fd < 0) return floor_error("memfd_create");
    if (ftruncate(vm->shared_fd, (off_t)vm->memory_size) != 0) return floor_error("ftruncate");
    vm->shared = mmap(NULL, vm->memory_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, vm->shared_fd, 0);
    if (vm->shared == MAP_FAILED) { vm->shared = NULL; return floor_error("mmap(shared view)"); }
    vm->shared_host = mmap(NULL, vm->memory_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, vm->shared_fd, 0);
    if (vm->shared_host == MAP_FAILED) { vm->shared_host = NULL; return floor_error("mmap(shared host view)"); }
    struct kvm_userspace_memory_region region = {
        .slot = FLOOR_SHARED_SLOT, .guest_phys_addr = FLOOR_TDX_SHARED_BIT, .memory_size = vm->memory_size,
        .userspace_addr = (uint64_t)(uintptr_t)vm->shared,
    };
    if (ioctl(vm->vm, KVM_SET_USER_MEMORY_REGION, &region) != 0) return floor_error("KVM_SET_USER_MEMORY_REGION(shared view)");
    /* Everything starts private and accepted: the shared view is closed. */
    if (mprotect(vm->shared, vm->memory_size, PROT_NONE) != 0) return floor_error("mprotect");
    return 0;
}

/* The CPUID the runner gives a TD (CPUIDTable): leaf 0x21 "IntelTDX    " (EBX, EDX, ECX, as
 * Linux tdx_early_init reads it), leaf 0 raised to reach it, so the runtime finds TDX and
 * speaks TDVMCALL for its port I/O here as under the runner. */
static int tdx_cpuid(struct kvm_cpuid2 *cpuid, uint32_t spare) {
    uint32_t used = 0;
    struct kvm_cpuid_entry2 *basic = floor_cpuid_leaf(cpuid, spare, &used, 0);
    struct kvm_cpuid_entry2 *tdx = floor_cpuid_leaf(cpuid, spare, &used, 0x21);
    if (!basic || !tdx) return -1;
    if (basic->eax < 0x21) basic->eax = 0x21;
    *tdx = (struct kvm_cpuid_entry2){ .function = 0x21, .ebx = 0x65746E49 /* "Inte" */, .edx = 0x5844546C /* "lTDX" */, .ecx = 0x20202020 };
    return 0;
}

const struct floor_platform floor_tdx_platform = { .ram_gpa = 0, .cpuid = tdx_cpuid };

/* Serves the TDCALL the vCPU stopped at. */
int floor_tdx_serve(struct floor_vm *vm) {
    struct kvm_regs *regs = &vm->run->s.regs.regs;
    switch (regs->rax) {
    case 1: /* TDG.VP.INFO */
        regs->rcx = FLOOR_TDX_GPAW;
        regs->rax = 0;
        break;
    case 0: { /* TDG.VP.VMCALL<MapGPA>: r12 gpa (shared bit = direction), r13 size */
        if (regs->r11 == FLOOR_TDVMCALL_IO) { /* r13 1: a write (the exit port ends the loop), 0: a read */
            if (regs->r13 == 1 && regs->r14 == FLOOR_PORT_EXIT) {
                vm->exited = 1;
                vm->exit_code = (uint32_t)regs->r15;
            } else if (regs->r13 == 0) {
                regs->r11 = regs->r14 == FLOOR_PORT_RECORD ? FLOOR_HOST_PRESENT : 0xFF;
            }
            regs->r10 = 0;
            regs->rax = 0;
            vm->forwarded++;
            break;
        }
        uint64_t gpa = regs->r12 & ~FLOOR_TDX_SHARED_BIT, length = regs->r13;
        if (floor_inside(vm, gpa, length) != 0) return -1;
        if (regs->r12 & FLOOR_TDX_SHARED_BIT) {
            if (fallocate(vm->gmem, FLOOR_FALLOC_PUNCH_HOLE_KEEP_SIZE, (off_t)gpa, (off_t)length) != 0) return floor_error("fallocate");
            if (floor_views(vm, gpa, length, 0, 1) != 0) return -1;
        } else {
            if (madvise(vm->shared_host + gpa, length, MADV_REMOVE) != 0) return floor_error("madvise(MADV_REMOVE)");
            if (floor_views(vm, gpa, length, 0, 0) != 0) return -1;
        }
        regs->r10 = 0;
        regs->rax = 0;
        vm->conversions++;
        break;
    }
    case 6: { /* TDG.MEM.PAGE.ACCEPT: rcx gpa | level 0 */
        uint64_t gpa = regs->rcx & ~0xFFFull;
        if (floor_inside(vm, gpa, 4096) != 0) return -1;
        if (fallocate(vm->gmem, FLOOR_FALLOC_PUNCH_HOLE_KEEP_SIZE, (off_t)gpa, 4096) != 0) return floor_error("fallocate");
        if (floor_views(vm, gpa, 4096, 1, 0) != 0) return -1;
        regs->rax = 0;
        vm->validations++;
        break;
    }
    default:
        errno = EINVAL;
        return floor_error("TDCALL leaf the floor does not serve");
    }
    regs->rip += FLOOR_TDCALL_LENGTH;
    vm->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
    return 0;
}
