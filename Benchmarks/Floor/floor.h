/*
 * floor.h — the raw-ioctl floor `enlighten bench` measures the Swift runner against.
 *
 * Nothing here is shared with the runner on purpose: the floor is what a VMM written
 * straight against /dev/kvm costs, so it must not inherit any of the runner's choices.
 * It uses the system <linux/kvm.h> (6.1) for the basics and declares the few newer uapi
 * pieces (guest_memfd, memslots v2) below, from the documented ABI.
 */
#ifndef ENLIGHTEN_FLOOR_H
#define ENLIGHTEN_FLOOR_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

/* Newer than the 6.1 header (Documentation/virt/kvm/api.rst: KVM_CREATE_GUEST_MEMFD,
 * KVM_SET_USER_MEMORY_REGION2). */
#define FLOOR_KVM_CREATE_GUEST_MEMFD        0xC040AED4UL  /* _IOWR(0xAE, 0xd4, 64 bytes) */
#define FLOOR_KVM_SET_USER_MEMORY_REGION2   0x40A0AE49UL  /* _IOW(0xAE, 0x49, 160 bytes) */
#define FLOOR_KVM_MEM_GUEST_MEMFD           (1u << 2)
#define FLOOR_GUEST_MEMFD_FLAG_MMAP         (1ull << 0)
#define FLOOR_GUEST_MEMFD_FLAG_INIT_SHARED  (1ull << 1)
#define FLOOR_MFD_CLOEXEC                   1u            /* include/uapi/linux/memfd.h */

struct floor_create_guest_memfd {
    uint64_t size;
    uint64_t flags;
    uint64_t reserved[6];
};

struct floor_memory_region2 {
    uint32_t slot;
    uint32_t flags;
    uint64_t guest_phys_addr;
    uint64_t memory_size;
    uint64_t userspace_addr;
    uint64_t guest_memfd_offset;
    uint32_t guest_memfd;
    uint32_t pad1;
    uint64_t pad2[14];
};

_Static_assert(sizeof(struct floor_create_guest_memfd) == 64, "kvm_create_guest_memfd is 64 bytes");
_Static_assert(sizeof(struct floor_memory_region2) == 160, "kvm_userspace_memory_region2 is 160 bytes");

/* The report channel ports the bench guest touches (docs/report-protocol.md). */
#define FLOOR_PORT_RECORD   0xEA
#define FLOOR_PORT_EXIT     0xF4
#define FLOOR_HOST_PRESENT  0xE7

/* A linked direct64 image: the ELF's loadable segments, its entry and its page tables. */
struct floor_image {
    uint8_t *file;
    size_t file_size;
    uint64_t entry;
    uint64_t cr3;
};

#define FLOOR_MAX_SITES 4 /* x86 has four hardware breakpoints */

/* How a VM differs from the default one: where guest_memfd's memslot sits and what its CPUID
 * says (trap-snp: at the C-bit, and the SEV leaves). */
struct floor_platform {
    uint64_t ram_gpa;
    /* Edits the supported CPUID in place; the buffer has room for `spare` more entries. */
    int (*cpuid)(struct kvm_cpuid2 *cpuid, uint32_t spare);
};

/* One VM ready to run: every descriptor and mapping the floor owns. */
struct floor_vm {
    /* gmem: RAM's file, the guest_memfd or its memfd stand-in (floor_backing). */
    int kvm, vm, gmem, vcpu;
    uint8_t *memory;
    uint64_t memory_size;
    /* trap-tdx: the shared view at GPA | 1 << 47; trap-snp: guest_memfd's shared view at GPA
     * (NULL otherwise). */
    uint8_t *shared;
    /* trap-snp, trap-tdx: the host's own mapping of guest_memfd, which no protection touches. */
    uint8_t *host;
    /* trap-tdx: the host's own mapping of the shared backing (a memfd, as the runner's), which
     * its MADV_REMOVE goes through; -1 / NULL otherwise. */
    int shared_fd;
    uint8_t *shared_host;
    struct kvm_run *run;
    size_t run_size;
    /* The trapped request sites (floor_trap_arm). */
    uint64_t sites[FLOOR_MAX_SITES];
    int site_count;
    /* trap-snp: the vCPU's GHCB MSR and the GHCB it registered; the page a PSC last made
     * private, | 1, until its first validation fills it (0: none). */
    uint64_t ghcb_msr, ghcb_gpa, assigned;
    /* What the serve functions counted: conversions and validations/acceptances served, and
     * port accesses the guest forwarded through its protocol (GHCB IOIO, TDVMCALL IO: on
     * SNP and TDX the runtime's presence read, records and exit code all travel that way). */
    uint64_t conversions, validations, forwarded;
    /* A forwarded write of the exit port: the guest's exit code. */
    int exited;
    uint32_t exit_code;
};

/* Where guest RAM lives, as the runner's RAMBacking: a guest_memfd (memfd = 0) or a memfd,
 * bound with KVM_SET_USER_MEMORY_REGION2 (region2 = 1) or the original ioctl. */
struct floor_backing {
    int memfd, region2;
};

/* vm.c */
void floor_set_backing(struct floor_backing backing);
/* A new RAM file of `size` bytes in the chosen backing (a guest_memfd needs `vm`). */
int floor_ram_file(int vm, uint64_t size);
int floor_backing_needs_vm(void);
int floor_vm_create(struct floor_vm *vm, uint64_t memory_size, const struct floor_image *image, const struct floor_platform *platform);
void floor_vm_destroy(struct floor_vm *vm);

/* image.c */
int floor_image_read(const char *path, uint64_t cr3, struct floor_image *image);
int floor_image_load(const struct floor_image *image, uint8_t *memory, uint64_t memory_size);
void floor_image_free(struct floor_image *image);

/* trap.c */
int floor_trap_arm(struct floor_vm *vm, const uint64_t *sites, int count);
int floor_trap_serve(struct floor_vm *vm);
int floor_views(struct floor_vm *vm, uint64_t gpa, uint64_t length, int private_open, int shared_open);
int floor_inside(struct floor_vm *vm, uint64_t gpa, uint64_t length);

/* trap-tdx.c */
extern const struct floor_platform floor_tdx_platform;
int floor_tdx_views(struct floor_vm *vm, const struct floor_image *image);
int floor_tdx_serve(struct floor_vm *vm);

/* trap-snp.c */
extern const struct floor_platform floor_snp_platform;
/* The entry of `function` (subleaf 0) in `cpuid`, added zeroed if absent while `*used` < `spare`. */
struct kvm_cpuid_entry2 *floor_cpuid_leaf(struct kvm_cpuid2 *cpuid, uint32_t spare, uint32_t *used, uint32_t function);
int floor_snp_views(struct floor_vm *vm, const struct floor_image *image);
int floor_snp_serve(struct floor_vm *vm);
int floor_snp_msr(struct floor_vm *vm);

/* main.c */
uint64_t floor_now_ns(void);
/* Prints `floor: what: strerror(errno)` on stderr and returns -1. */
int floor_error(const char *what);

#endif
