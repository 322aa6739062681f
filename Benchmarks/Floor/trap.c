/*
 * trap.c — the least a VMM must do to serve KVM_HC_MAP_GPA_RANGE from a hardware
 * breakpoint, as the runner's trap transport does where the kernel cannot deliver the
 * hypercall (docs/host-findings.md §2–§3): DR0 on the request instruction, registers through
 * kvm_run's sync regs, one PUNCH_HOLE for the flipped range (a conversion is destructive),
 * rax = 0 and RIP past the instruction. No validation, no bookkeeping: a floor.
 */
#define _GNU_SOURCE /* fallocate */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "floor.h"

#define FLOOR_FALLOC_PUNCH_HOLE_KEEP_SIZE 0x03 /* FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE */
#define FLOOR_DR7_RESERVED (1ull << 10)
#define FLOOR_REQUEST_LENGTH 3                    /* vmcall / vmmcall */

/* DR0..DR(count-1) on the request sites: G n is DR7 bit 2n + 1, R/W n and LEN n 00 (execute,
 * 1 byte), bit 10 reserved 1 (Intel SDM vol. 3, 18.2.4 "Debug Control Register (DR7)"). */
int floor_trap_arm(struct floor_vm *vm, const uint64_t *sites, int count) {
    if (count < 1 || count > FLOOR_MAX_SITES) { errno = EINVAL; return floor_error("request sites"); }
    struct kvm_guest_debug debug;
    memset(&debug, 0, sizeof debug);
    debug.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
    debug.arch.debugreg[7] = FLOOR_DR7_RESERVED;
    for (int i = 0; i < count; i++) {
        debug.arch.debugreg[i] = sites[i];
        debug.arch.debugreg[7] |= 1ull << (2 * i + 1);
        vm->sites[i] = sites[i];
    }
    vm->site_count = count;
    if (ioctl(vm->vcpu, KVM_SET_GUEST_DEBUG, &debug) != 0) return floor_error("KVM_SET_GUEST_DEBUG");
    vm->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    return 0;
}

/* Serves the hypercall the vCPU stopped at: rbx = GPA, rcx = 4 KiB pages. */
int floor_trap_serve(struct floor_vm *vm) {
    struct kvm_regs *regs = &vm->run->s.regs.regs;
    uint64_t length = regs->rcx << 12;
    if (regs->rbx > vm->memory_size || length > vm->memory_size - regs->rbx) { errno = EINVAL; return floor_error("request outside RAM"); }
    if (fallocate(vm->gmem, FLOOR_FALLOC_PUNCH_HOLE_KEEP_SIZE, (off_t)regs->rbx, (off_t)length) != 0) return floor_error("fallocate");
    regs->rax = 0;
    regs->rip += FLOOR_REQUEST_LENGTH;
    vm->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
    return 0;
}

/* Opens or closes one range of the guest's two views, private first, as the runner's
 * GuestViews.apply does: the private view open only while private and validated/accepted,
 * the shared view only while shared. */
int floor_views(struct floor_vm *vm, uint64_t gpa, uint64_t length, int private_open, int shared_open) {
    if (mprotect(vm->memory + gpa, length, private_open ? PROT_READ | PROT_WRITE : PROT_NONE) != 0) return floor_error("mprotect(private)");
    if (mprotect(vm->shared + gpa, length, shared_open ? PROT_READ | PROT_WRITE : PROT_NONE) != 0) return floor_error("mprotect(shared)");
    return 0;
}

int floor_inside(struct floor_vm *vm, uint64_t gpa, uint64_t length) {
    if (gpa > vm->memory_size || length > vm->memory_size - gpa) { errno = EINVAL; return floor_error("request outside RAM"); }
    return 0;
}
