/*
 * trap.c — the least a VMM must do to serve KVM_HC_MAP_GPA_RANGE from a hardware
 * breakpoint, as the runner's trap transport does where the kernel cannot deliver the
 * hypercall (shared/HOST-NOTES.md): DR0 on the request instruction, registers through
 * kvm_run's sync regs, one PUNCH_HOLE for the flipped range (a conversion is destructive),
 * rax = 0 and RIP past the instruction. No validation, no bookkeeping: a floor.
 */
#define _GNU_SOURCE /* fallocate */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>

#include "floor.h"

#define FLOOR_FALLOC_PUNCH_HOLE_KEEP_SIZE 0x03 /* FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE */
#define FLOOR_DR7_G0 (1ull << 10 | 1ull << 1)      /* reserved bit 10, global enable of DR0, execute */
#define FLOOR_REQUEST_LENGTH 3                    /* vmcall / vmmcall */

int floor_trap_arm(struct floor_vm *vm, uint64_t site) {
    struct kvm_guest_debug debug;
    memset(&debug, 0, sizeof debug);
    debug.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
    debug.arch.debugreg[0] = site;
    debug.arch.debugreg[7] = FLOOR_DR7_G0;
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
