/*
 * vm.c — one VM made ready to run with nothing but the ioctls it needs: /dev/kvm, a
 * default VM, guest RAM in a guest_memfd (MMAP | INIT_SHARED) bound through memslots v2 — or,
 * as the runner does where a default VM has no guest_memfd, in a memfd behind a plain memslot —
 * the image copied in, one vCPU with KVM's supported CPUID, and long mode at the entry in
 * the state the runner's BootState gives a direct64 image.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, O_CLOEXEC with any -std */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "floor.h"

#define FLOOR_CPUID_SPARE 4

/* CPUID leaves: grown while the kernel answers E2BIG, as any VMM must. */
static struct kvm_cpuid2 *supported_cpuid(int kvm) {
    for (int capacity = 128; capacity <= 4096; capacity *= 2) {
        struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + (size_t)capacity * sizeof(struct kvm_cpuid_entry2));
        if (!cpuid) return NULL;
        cpuid->nent = (uint32_t)capacity;
        if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) == 0) return cpuid;
        int code = errno;
        free(cpuid);
        if (code != E2BIG) { errno = code; return NULL; }
    }
    errno = E2BIG;
    return NULL;
}

/* vCPU 0's CPUID: the supported leaves, with initial APIC ID 0 in leaf 1 EBX[31:24], and the
 * platform's edits. */
static int set_cpuid(int kvm, int vcpu, const struct floor_platform *platform) {
    struct kvm_cpuid2 *cpuid = supported_cpuid(kvm);
    if (!cpuid) return floor_error("KVM_GET_SUPPORTED_CPUID");
    for (uint32_t i = 0; i < cpuid->nent; i++) {
        if (cpuid->entries[i].function == 1) cpuid->entries[i].ebx &= 0x00FFFFFFu;
    }
    if (platform && platform->cpuid) {
        struct kvm_cpuid2 *room = realloc(cpuid, sizeof *cpuid + (size_t)(cpuid->nent + FLOOR_CPUID_SPARE) * sizeof(struct kvm_cpuid_entry2));
        if (!room) { free(cpuid); return floor_error("CPUID"); }
        cpuid = room;
        if (platform->cpuid(cpuid, FLOOR_CPUID_SPARE) != 0) { free(cpuid); errno = EINVAL; return floor_error("CPUID"); }
    }
    int result = ioctl(vcpu, KVM_SET_CPUID2, cpuid);
    int code = errno;
    free(cpuid);
    errno = code;
    return result == 0 ? 0 : floor_error("KVM_SET_CPUID2");
}

static struct kvm_segment flat_segment(uint16_t selector, uint8_t type, int long_mode) {
    struct kvm_segment segment = {
        .base = 0, .limit = 0xFFFFFFFFu, .selector = selector, .type = type, .present = 1,
        .dpl = 0, .db = long_mode ? 0 : 1, .s = 1, .l = long_mode ? 1 : 0, .g = 1,
    };
    return segment;
}

/* 64-bit mode, paging on the image's tables, edi = vCPU index 0 (docs/image-format.md). */
static int enter_long_mode(int vcpu, const struct floor_image *image) {
    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) != 0) return floor_error("KVM_GET_SREGS");
    sregs.cr0 = 1u << 0 | 1u << 1 | 1u << 4 | 1u << 5 | 1u << 16 | 1u << 31; /* PE MP ET NE WP PG */
    sregs.cr3 = image->cr3;
    sregs.cr4 = 1u << 5 | 1u << 9 | 1u << 10;                                 /* PAE OSFXSR OSXMMEXCPT */
    sregs.efer = 1u << 8 | 1u << 10;                                           /* LME LMA */
    sregs.cs = flat_segment(0x08, 0xB, 1);
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat_segment(0x10, 0x3, 0);
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) != 0) return floor_error("KVM_SET_SREGS");
    struct kvm_regs regs;
    memset(&regs, 0, sizeof regs);
    regs.rip = image->entry;
    regs.rdi = 0;
    regs.rflags = 0x2;
    if (ioctl(vcpu, KVM_SET_REGS, &regs) != 0) return floor_error("KVM_SET_REGS");
    return 0;
}

/* The RAM backing every VM of this process uses, set once by main before any VM exists. */
static struct floor_backing backing = { .memfd = 0, .region2 = 1 };

void floor_set_backing(struct floor_backing chosen) { backing = chosen; }

/* A new RAM file of `size` bytes for VM `vm`: a guest_memfd, or a memfd sized with
 * ftruncate; -1 (with errno reported) on failure. Both are mapped, punched and closed alike. */
int floor_ram_file(int vm, uint64_t size) {
    if (backing.memfd) {
        int fd = (int)syscall(SYS_memfd_create, "floor-ram", FLOOR_MFD_CLOEXEC);
        if (fd < 0) return floor_error("memfd_create");
        if (ftruncate(fd, (off_t)size) != 0) { close(fd); return floor_error("ftruncate"); }
        return fd;
    }
    struct floor_create_guest_memfd request = {
        .size = size, .flags = FLOOR_GUEST_MEMFD_FLAG_MMAP | FLOOR_GUEST_MEMFD_FLAG_INIT_SHARED,
    };
    int fd = ioctl(vm, FLOOR_KVM_CREATE_GUEST_MEMFD, &request);
    if (fd < 0) return floor_error("KVM_CREATE_GUEST_MEMFD");
    return fd;
}

int floor_backing_needs_vm(void) { return !backing.memfd; }

static int create_memory(struct floor_vm *vm, uint64_t memory_size, uint64_t ram_gpa) {
    vm->gmem = floor_ram_file(vm->vm, memory_size);
    if (vm->gmem < 0) return -1;
    void *memory = mmap(NULL, memory_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->gmem, 0);
    if (memory == MAP_FAILED) return floor_error(backing.memfd ? "mmap(memfd)" : "mmap(guest_memfd)");
    vm->memory = memory;
    vm->memory_size = memory_size;
    if (!backing.region2) {
        struct kvm_userspace_memory_region region = {
            .slot = 0, .guest_phys_addr = ram_gpa, .memory_size = memory_size, .userspace_addr = (uint64_t)(uintptr_t)memory,
        };
        if (ioctl(vm->vm, KVM_SET_USER_MEMORY_REGION, &region) != 0) return floor_error("KVM_SET_USER_MEMORY_REGION");
        return 0;
    }
    struct floor_memory_region2 region = {
        .slot = 0, .flags = backing.memfd ? 0 : FLOOR_KVM_MEM_GUEST_MEMFD, .guest_phys_addr = ram_gpa, .memory_size = memory_size,
        .userspace_addr = (uint64_t)(uintptr_t)memory, .guest_memfd_offset = 0, .guest_memfd = backing.memfd ? 0 : (uint32_t)vm->gmem,
    };
    if (ioctl(vm->vm, FLOOR_KVM_SET_USER_MEMORY_REGION2, &region) != 0) return floor_error("KVM_SET_USER_MEMORY_REGION2");
    return 0;
}

static int create_vcpu(struct floor_vm *vm) {
    int size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size <= 0) return floor_error("KVM_GET_VCPU_MMAP_SIZE");
    vm->vcpu = ioctl(vm->vm, KVM_CREATE_VCPU, 0);
    if (vm->vcpu < 0) return floor_error("KVM_CREATE_VCPU");
    void *run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
    if (run == MAP_FAILED) return floor_error("mmap(kvm_run)");
    vm->run = run;
    vm->run_size = (size_t)size;
    return 0;
}

/* `platform` may be NULL: guest_memfd at GPA 0 and the supported CPUID. */
int floor_vm_create(struct floor_vm *vm, uint64_t memory_size, const struct floor_image *image, const struct floor_platform *platform) {
    *vm = (struct floor_vm){ .kvm = -1, .vm = -1, .gmem = -1, .vcpu = -1, .shared_fd = -1 };
    vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm < 0) return floor_error("/dev/kvm");
    if (ioctl(vm->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) { errno = EINVAL; return floor_error("KVM_GET_API_VERSION"); }
    vm->vm = ioctl(vm->kvm, KVM_CREATE_VM, 0);
    if (vm->vm < 0) return floor_error("KVM_CREATE_VM");
    if (create_memory(vm, memory_size, platform ? platform->ram_gpa : 0) != 0) return -1;
    if (floor_image_load(image, vm->memory, memory_size) != 0) return -1;
    if (create_vcpu(vm) != 0) return -1;
    if (set_cpuid(vm->kvm, vm->vcpu, platform) != 0) return -1;
    return enter_long_mode(vm->vcpu, image);
}

/* Releases whatever `floor_vm_create` got to, in reverse order. */
void floor_vm_destroy(struct floor_vm *vm) {
    if (vm->run) munmap(vm->run, vm->run_size);
    if (vm->vcpu >= 0) close(vm->vcpu);
    if (vm->host) munmap(vm->host, vm->memory_size);
    if (vm->shared) munmap(vm->shared, vm->memory_size);
    if (vm->shared_host) munmap(vm->shared_host, vm->memory_size);
    if (vm->shared_fd >= 0) close(vm->shared_fd);
    if (vm->memory) munmap(vm->memory, vm->memory_size);
    if (vm->gmem >= 0) close(vm->gmem);
    if (vm->vm >= 0) close(vm->vm);
    if (vm->kvm >= 0) close(vm->kvm);
    *vm = (struct floor_vm){ .kvm = -1, .vm = -1, .gmem = -1, .vcpu = -1, .shared_fd = -1 };
}
