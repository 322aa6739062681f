/*
 * ckvm.h — the slice of the KVM userspace ABI that Enlighten uses.
 *
 * The system <linux/kvm.h> on the build machines is Linux 6.1: it has the old basics
 * (struct kvm_run, kvm_regs, kvm_sregs, kvm_cpuid2, kvm_guest_debug, kvm_enable_cap) but
 * nothing about guest_memfd, memslots v2, memory attributes or memory-fault exits. This
 * header takes those basics from the system and declares everything newer itself, under
 * `ckvm_` / `CKVM_` names so nothing can clash with a newer system header.
 *
 * Every number here is a documented ABI value (docs/abi.md names each one's source);
 * every layout is pinned with _Static_assert below, and every ioctl number written as a
 * literal is checked against the _IOC formula applied to the structure it carries.
 *
 * Small static inline helpers exist only where Swift cannot express something itself:
 * the variadic ioctl(2), typed views into the kvm_run exit union, and an atomic store.
 */
#ifndef CKVM_H
#define CKVM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

/* ------------------------------------------------------------------------------------ */
/* ioctl request numbers: dir<<30 | size<<16 | 0xAE<<8 | nr                              */
/* ------------------------------------------------------------------------------------ */

/* /dev/kvm (system) */
#define CKVM_IOCTL_GET_API_VERSION        0xAE00UL
#define CKVM_IOCTL_CREATE_VM              0xAE01UL
#define CKVM_IOCTL_CHECK_EXTENSION        0xAE03UL
#define CKVM_IOCTL_GET_VCPU_MMAP_SIZE     0xAE04UL
#define CKVM_IOCTL_GET_SUPPORTED_CPUID    0xC008AE05UL   /* _IOWR nr 0x05, kvm_cpuid2 (8) */

/* VM fd */
#define CKVM_IOCTL_CREATE_VCPU            0xAE41UL
#define CKVM_IOCTL_GET_VCPU_EVENTS        0x8040AE9FUL   /* _IOR nr 0x9f, kvm_vcpu_events (64) */
#define CKVM_IOCTL_SET_VCPU_EVENTS        0x4040AEA0UL   /* _IOW nr 0xa0, kvm_vcpu_events (64) */
#define CKVM_IOCTL_GET_DEBUGREGS          0x8080AEA1UL   /* _IOR nr 0xa1, kvm_debugregs (128) */
#define CKVM_IOCTL_SET_DEBUGREGS          0x4080AEA2UL   /* _IOW nr 0xa2, kvm_debugregs (128) */
#define CKVM_IOCTL_SET_USER_MEMORY_REGION 0x4020AE46UL   /* _IOW nr 0x46, 32 bytes */
#define CKVM_IOCTL_SET_USER_MEMORY_REGION2 0x40A0AE49UL  /* _IOW nr 0x49, 160 bytes */
#define CKVM_IOCTL_ENABLE_CAP             0x4068AEA3UL   /* _IOW nr 0xa3, 104 bytes */
#define CKVM_IOCTL_MEMORY_ENCRYPT_OP      0xC008AEBAUL   /* _IOWR nr 0xba, unsigned long */
#define CKVM_IOCTL_SET_MEMORY_ATTRIBUTES  0x4020AED2UL   /* _IOW nr 0xd2, 32 bytes */
#define CKVM_IOCTL_CREATE_GUEST_MEMFD     0xC040AED4UL   /* _IOWR nr 0xd4, 64 bytes */
#define CKVM_IOCTL_X86_SET_MSR_FILTER     0x4188AEC6UL   /* _IOW nr 0xc6, kvm_msr_filter (392) */

/* vCPU fd */
#define CKVM_IOCTL_RUN                    0xAE80UL
#define CKVM_IOCTL_GET_REGS               0x8090AE81UL   /* _IOR nr 0x81, 144 bytes */
#define CKVM_IOCTL_SET_REGS               0x4090AE82UL   /* _IOW nr 0x82, 144 bytes */
#define CKVM_IOCTL_GET_SREGS              0x8138AE83UL   /* _IOR nr 0x83, 312 bytes */
#define CKVM_IOCTL_SET_SREGS              0x4138AE84UL   /* _IOW nr 0x84, 312 bytes */
#define CKVM_IOCTL_GET_FPU                0x81A0AE8CUL   /* _IOR nr 0x8c, kvm_fpu (416) */
#define CKVM_IOCTL_SET_FPU                0x41A0AE8DUL   /* _IOW nr 0x8d, kvm_fpu (416) */
#define CKVM_IOCTL_GET_XSAVE              0x9000AEA4UL   /* _IOR nr 0xa4, kvm_xsave (4096) */
#define CKVM_IOCTL_SET_XSAVE              0x5000AEA5UL   /* _IOW nr 0xa5, kvm_xsave (4096) */
#define CKVM_IOCTL_SET_CPUID2             0x4008AE90UL   /* _IOW nr 0x90, kvm_cpuid2 (8) */
#define CKVM_IOCTL_GET_MSRS               0xC008AE88UL   /* _IOWR nr 0x88, kvm_msrs (8) */
#define CKVM_IOCTL_SET_MSRS               0x4008AE89UL   /* _IOW nr 0x89, kvm_msrs (8) */
#define CKVM_IOCTL_GET_MP_STATE           0x8004AE98UL   /* _IOR nr 0x98, 4 bytes */
#define CKVM_IOCTL_SET_MP_STATE           0x4004AE99UL   /* _IOW nr 0x99, 4 bytes */
#define CKVM_IOCTL_SET_GUEST_DEBUG        0x4048AE9BUL   /* _IOW nr 0x9b, 72 bytes */
#define CKVM_IOCTL_PRE_FAULT_MEMORY       0xC040AED5UL   /* _IOWR nr 0xd5, 64 bytes */

/* ------------------------------------------------------------------------------------ */
/* capability numbers (KVM_CHECK_EXTENSION / KVM_ENABLE_CAP)                              */
/* ------------------------------------------------------------------------------------ */
#define CKVM_CAP_USER_MEMORY          3
#define CKVM_CAP_SET_GUEST_DEBUG      23
#define CKVM_CAP_SYNC_REGS            74
#define CKVM_CAP_GUEST_DEBUG_HW_BPS   119
#define CKVM_CAP_IMMEDIATE_EXIT       136
#define CKVM_CAP_X86_USER_SPACE_MSR   188
#define CKVM_CAP_X86_MSR_FILTER       189
#define CKVM_CAP_SET_GUEST_DEBUG2     195
#define CKVM_CAP_EXIT_HYPERCALL       201
#define CKVM_CAP_DISABLE_QUIRKS2      213
#define CKVM_CAP_USER_MEMORY2         231
#define CKVM_CAP_MEMORY_FAULT_INFO    232
#define CKVM_CAP_MEMORY_ATTRIBUTES    233
#define CKVM_CAP_GUEST_MEMFD          234
#define CKVM_CAP_VM_TYPES             235
#define CKVM_CAP_PRE_FAULT_MEMORY     236
#define CKVM_CAP_GUEST_MEMFD_FLAGS    244

/* ------------------------------------------------------------------------------------ */
/* exit reasons (kvm_run.exit_reason)                                                     */
/* ------------------------------------------------------------------------------------ */
#define CKVM_EXIT_UNKNOWN         0
#define CKVM_EXIT_IO              2
#define CKVM_EXIT_HYPERCALL       3
#define CKVM_EXIT_DEBUG           4
#define CKVM_EXIT_HLT             5
#define CKVM_EXIT_MMIO            6
#define CKVM_EXIT_SHUTDOWN        8
#define CKVM_EXIT_FAIL_ENTRY      9
#define CKVM_EXIT_INTR            10
#define CKVM_EXIT_INTERNAL_ERROR  17
#define CKVM_EXIT_SYSTEM_EVENT    24
#define CKVM_EXIT_X86_RDMSR       29
#define CKVM_EXIT_X86_WRMSR       30
#define CKVM_EXIT_MEMORY_FAULT    39

#define CKVM_EXIT_IO_IN           0
#define CKVM_EXIT_IO_OUT          1

/* ------------------------------------------------------------------------------------ */
/* flag values                                                                            */
/* ------------------------------------------------------------------------------------ */
/* memslot flags (kvm_userspace_memory_region{,2}.flags) */
#define CKVM_MEM_LOG_DIRTY_PAGES          0x1U
#define CKVM_MEM_READONLY                 0x2U
#define CKVM_MEM_GUEST_MEMFD              0x4U
/* kvm_create_guest_memfd.flags */
#define CKVM_GUEST_MEMFD_FLAG_MMAP        0x1ULL
#define CKVM_GUEST_MEMFD_FLAG_INIT_SHARED 0x2ULL
/* kvm_memory_attributes.attributes */
#define CKVM_MEMORY_ATTRIBUTE_PRIVATE     0x8ULL
/* kvm_run.memory_fault.flags */
#define CKVM_MEMORY_EXIT_FLAG_PRIVATE     0x8ULL
/* kvm_run.hypercall.flags (x86) */
#define CKVM_EXIT_HYPERCALL_LONG_MODE     0x1ULL
/* kvm_run.msr.reason and the KVM_CAP_X86_USER_SPACE_MSR argument */
#define CKVM_MSR_EXIT_REASON_INVAL        0x1U
#define CKVM_MSR_EXIT_REASON_UNKNOWN      0x2U
#define CKVM_MSR_EXIT_REASON_FILTER       0x4U
/* kvm_guest_debug.control */
#define CKVM_GUESTDBG_ENABLE              0x00000001U
#define CKVM_GUESTDBG_SINGLESTEP          0x00000002U
#define CKVM_GUESTDBG_USE_SW_BP           0x00010000U
#define CKVM_GUESTDBG_USE_HW_BP           0x00020000U
#define CKVM_GUESTDBG_INJECT_DB           0x00040000U
#define CKVM_GUESTDBG_INJECT_BP           0x00080000U
#define CKVM_GUESTDBG_BLOCKIRQ            0x00100000U
/* kvm_run.kvm_valid_regs / kvm_dirty_regs (x86) */
#define CKVM_SYNC_X86_REGS                0x1ULL
#define CKVM_SYNC_X86_SREGS               0x2ULL
#define CKVM_SYNC_X86_EVENTS              0x4ULL
/* KVM_CAP_DISABLE_QUIRKS2 argument bits (x86) */
#define CKVM_X86_QUIRK_FIX_HYPERCALL_INSN 0x20ULL
/* KVM_CREATE_VM machine types (x86) */
#define CKVM_X86_DEFAULT_VM       0
#define CKVM_X86_SW_PROTECTED_VM  1
#define CKVM_X86_SEV_VM           2
#define CKVM_X86_SEV_ES_VM        3
#define CKVM_X86_SNP_VM           4
#define CKVM_X86_TDX_VM           5
/* KVM_MEMORY_ENCRYPT_OP command ids */
#define CKVM_SEV_INIT2                   22
#define CKVM_SEV_SNP_LAUNCH_START        100
#define CKVM_SEV_SNP_LAUNCH_UPDATE       101
#define CKVM_SEV_SNP_LAUNCH_FINISH       102
#define CKVM_SEV_SNP_PAGE_TYPE_NORMAL     0x1
#define CKVM_SEV_SNP_PAGE_TYPE_ZERO       0x3
#define CKVM_SEV_SNP_PAGE_TYPE_UNMEASURED 0x4
#define CKVM_SEV_SNP_PAGE_TYPE_SECRETS    0x5
#define CKVM_SEV_SNP_PAGE_TYPE_CPUID      0x6
#define CKVM_TDX_CAPABILITIES            0
#define CKVM_TDX_INIT_VM                 1
#define CKVM_TDX_INIT_VCPU               2
#define CKVM_TDX_INIT_MEM_REGION         3
#define CKVM_TDX_FINALIZE_VM             4
#define CKVM_TDX_MEASURE_MEMORY_REGION   0x1U
/* KVM_SET_MP_STATE values */
#define CKVM_MP_STATE_RUNNABLE           0
#define CKVM_MP_STATE_UNINITIALIZED      1
#define CKVM_MP_STATE_HALTED             3

/* byte offset of the exit union inside struct kvm_run */
#define CKVM_RUN_EXIT_OFFSET 32

/* ------------------------------------------------------------------------------------ */
/* structures newer than the 6.1 header                                                   */
/* ------------------------------------------------------------------------------------ */

/* KVM_CREATE_GUEST_MEMFD argument. */
struct ckvm_create_guest_memfd {
    uint64_t size;         /* bytes, page aligned */
    uint64_t flags;        /* CKVM_GUEST_MEMFD_FLAG_* */
    uint64_t reserved[6];  /* zero */
};

/* KVM_SET_USER_MEMORY_REGION2 argument. */
struct ckvm_userspace_memory_region2 {
    uint32_t slot;
    uint32_t flags;              /* CKVM_MEM_* */
    uint64_t guest_phys_addr;
    uint64_t memory_size;
    uint64_t userspace_addr;
    uint64_t guest_memfd_offset;
    uint32_t guest_memfd;        /* fd, used with CKVM_MEM_GUEST_MEMFD */
    uint32_t pad1;
    uint64_t pad2[14];
};

/* KVM_SET_MEMORY_ATTRIBUTES argument. */
struct ckvm_memory_attributes {
    uint64_t address;
    uint64_t size;
    uint64_t attributes;   /* CKVM_MEMORY_ATTRIBUTE_* */
    uint64_t flags;        /* zero */
};

/* KVM_PRE_FAULT_MEMORY argument (progress is written back). */
struct ckvm_pre_fault_memory {
    uint64_t gpa;
    uint64_t size;
    uint64_t flags;
    uint64_t padding[5];
};

/* KVM_MEMORY_ENCRYPT_OP argument for AMD SEV commands (VM fd). */
struct ckvm_sev_cmd {
    uint32_t id;       /* CKVM_SEV_* */
    uint32_t pad0;
    uint64_t data;     /* user pointer to the command's structure */
    uint32_t error;    /* firmware status, out */
    uint32_t sev_fd;   /* /dev/sev fd */
};

/* data of CKVM_SEV_SNP_LAUNCH_UPDATE (progress is written back). */
struct ckvm_sev_snp_launch_update {
    uint64_t gfn_start;
    uint64_t uaddr;
    uint64_t len;
    uint8_t  type;     /* CKVM_SEV_SNP_PAGE_TYPE_* */
    uint8_t  pad0;
    uint16_t flags;    /* zero */
    uint32_t pad1;
    uint64_t pad2[4];
};

/* KVM_MEMORY_ENCRYPT_OP argument for Intel TDX commands. */
struct ckvm_tdx_cmd {
    uint32_t id;        /* CKVM_TDX_* */
    uint32_t flags;
    uint64_t data;      /* user pointer to the command's structure */
    uint64_t hw_error;  /* zero in, TDX module status out */
};

/* data of CKVM_TDX_INIT_MEM_REGION (vCPU fd; progress is written back). */
struct ckvm_tdx_init_mem_region {
    uint64_t source_addr;
    uint64_t gpa;
    uint64_t nr_pages;
};

/* ------------------------------------------------------------------------------------ */
/* views of the kvm_run exit union (all start at CKVM_RUN_EXIT_OFFSET)                     */
/* ------------------------------------------------------------------------------------ */

struct ckvm_exit_io {
    uint8_t  direction;    /* CKVM_EXIT_IO_IN / _OUT */
    uint8_t  size;         /* bytes per element */
    uint16_t port;
    uint32_t count;
    uint64_t data_offset;  /* from the start of kvm_run */
};

struct ckvm_exit_mmio {
    uint64_t phys_addr;
    uint8_t  data[8];
    uint32_t len;
    uint8_t  is_write;
};

struct ckvm_exit_debug {   /* x86 kvm_debug_exit_arch */
    uint32_t exception;
    uint32_t pad;
    uint64_t pc;
    uint64_t dr6;
    uint64_t dr7;
};

struct ckvm_exit_hypercall {
    uint64_t nr;
    uint64_t args[6];
    uint64_t ret;          /* user -> kernel */
    uint64_t flags;        /* shares its first 4 bytes with the old `longmode` */
};

struct ckvm_exit_msr {
    uint8_t  error;        /* user -> kernel: non-zero injects #GP */
    uint8_t  pad[7];
    uint32_t reason;       /* CKVM_MSR_EXIT_REASON_* */
    uint32_t index;
    uint64_t data;         /* kernel <-> user */
};

struct ckvm_exit_memory_fault {
    uint64_t flags;        /* CKVM_MEMORY_EXIT_FLAG_* */
    uint64_t gpa;
    uint64_t size;         /* 0 = unknown */
};

struct ckvm_exit_internal {
    uint32_t suberror;
    uint32_t ndata;
    uint64_t data[16];
};

struct ckvm_exit_fail_entry {
    uint64_t hardware_entry_failure_reason;
    uint32_t cpu;
};

struct ckvm_exit_system_event {
    uint32_t type;
    uint32_t ndata;
    uint64_t data[16];
};

/* ------------------------------------------------------------------------------------ */
/* layout checks                                                                          */
/* ------------------------------------------------------------------------------------ */
#define CKVM_IOC(dir, nr, size) ((unsigned long)(((dir) << 30) | ((size) << 16) | (0xAE << 8) | (nr)))

_Static_assert(sizeof(struct ckvm_create_guest_memfd) == 64, "create_guest_memfd");
_Static_assert(offsetof(struct ckvm_create_guest_memfd, flags) == 8, "gmem flags");
_Static_assert(sizeof(struct ckvm_userspace_memory_region2) == 160, "region2");
_Static_assert(offsetof(struct ckvm_userspace_memory_region2, guest_memfd_offset) == 32, "region2 off");
_Static_assert(offsetof(struct ckvm_userspace_memory_region2, guest_memfd) == 40, "region2 fd");
_Static_assert(offsetof(struct ckvm_userspace_memory_region2, pad2) == 48, "region2 pad2");
_Static_assert(sizeof(struct ckvm_memory_attributes) == 32, "memory_attributes");
_Static_assert(sizeof(struct ckvm_pre_fault_memory) == 64, "pre_fault_memory");
_Static_assert(sizeof(struct ckvm_sev_cmd) == 24, "sev_cmd");
_Static_assert(offsetof(struct ckvm_sev_cmd, error) == 16, "sev_cmd error");
_Static_assert(sizeof(struct ckvm_sev_snp_launch_update) == 64, "snp_launch_update");
_Static_assert(offsetof(struct ckvm_sev_snp_launch_update, type) == 24, "snp type");
_Static_assert(offsetof(struct ckvm_sev_snp_launch_update, flags) == 26, "snp flags");
_Static_assert(offsetof(struct ckvm_sev_snp_launch_update, pad2) == 32, "snp pad2");
_Static_assert(sizeof(struct ckvm_tdx_cmd) == 24, "tdx_cmd");
_Static_assert(offsetof(struct ckvm_tdx_cmd, hw_error) == 16, "tdx hw_error");
_Static_assert(sizeof(struct ckvm_tdx_init_mem_region) == 24, "tdx_init_mem_region");

_Static_assert(offsetof(struct kvm_run, immediate_exit) == 1, "run immediate_exit");
_Static_assert(offsetof(struct kvm_run, exit_reason) == 8, "run exit_reason");
_Static_assert(offsetof(struct kvm_run, hw) == CKVM_RUN_EXIT_OFFSET, "run exit union");
_Static_assert(offsetof(struct kvm_run, kvm_valid_regs) == 288, "run valid_regs");
_Static_assert(offsetof(struct kvm_run, kvm_dirty_regs) == 296, "run dirty_regs");
_Static_assert(offsetof(struct kvm_run, s) == 304, "run sync regs");
_Static_assert(sizeof(struct kvm_run) == 2352, "kvm_run");
_Static_assert(sizeof(struct ckvm_exit_io) == 16, "io");
_Static_assert(offsetof(struct ckvm_exit_mmio, len) == 16, "mmio len");
_Static_assert(offsetof(struct ckvm_exit_mmio, is_write) == 20, "mmio is_write");
_Static_assert(sizeof(struct ckvm_exit_debug) == 32, "debug");
_Static_assert(offsetof(struct ckvm_exit_debug, pc) == 8, "debug pc");
_Static_assert(offsetof(struct ckvm_exit_debug, dr7) == 24, "debug dr7");
_Static_assert(offsetof(struct ckvm_exit_hypercall, ret) == 56, "hypercall ret");
_Static_assert(offsetof(struct ckvm_exit_hypercall, flags) == 64, "hypercall flags");
_Static_assert(offsetof(struct ckvm_exit_msr, reason) == 8, "msr reason");
_Static_assert(offsetof(struct ckvm_exit_msr, index) == 12, "msr index");
_Static_assert(offsetof(struct ckvm_exit_msr, data) == 16, "msr data");
_Static_assert(sizeof(struct ckvm_exit_memory_fault) == 24, "memory_fault");
_Static_assert(sizeof(struct ckvm_exit_internal) == 136, "internal");
_Static_assert(sizeof(struct ckvm_exit_system_event) == 136, "system_event");
_Static_assert(sizeof(struct kvm_regs) == 144, "kvm_regs");
_Static_assert(sizeof(struct kvm_sregs) == 312, "kvm_sregs");
_Static_assert(sizeof(struct kvm_guest_debug) == 72, "kvm_guest_debug");
_Static_assert(sizeof(struct kvm_fpu) == 416, "kvm_fpu");
_Static_assert(offsetof(struct kvm_fpu, fcw) == 128, "kvm_fpu fcw");
_Static_assert(offsetof(struct kvm_fpu, xmm) == 152, "kvm_fpu xmm");
_Static_assert(offsetof(struct kvm_fpu, mxcsr) == 416 - 8, "kvm_fpu mxcsr");
_Static_assert(sizeof(struct kvm_xsave) == 4096, "kvm_xsave");
_Static_assert(sizeof(struct kvm_debugregs) == 128, "kvm_debugregs");
_Static_assert(offsetof(struct kvm_debugregs, dr6) == 32, "kvm_debugregs dr6");
_Static_assert(sizeof(struct kvm_enable_cap) == 104, "kvm_enable_cap");
_Static_assert(sizeof(struct kvm_cpuid_entry2) == 40, "kvm_cpuid_entry2");
_Static_assert(offsetof(struct kvm_sync_regs, regs) == 0, "sync regs");
_Static_assert(offsetof(struct kvm_sync_regs, sregs) == 144, "sync sregs");

/* each literal ioctl number equals the _IOC formula over the structure it carries */
_Static_assert(CKVM_IOCTL_GET_SUPPORTED_CPUID == CKVM_IOC(3U, 0x05, sizeof(struct kvm_cpuid2)), "");
_Static_assert(CKVM_IOCTL_SET_USER_MEMORY_REGION == CKVM_IOC(1U, 0x46, sizeof(struct kvm_userspace_memory_region)), "");
_Static_assert(CKVM_IOCTL_SET_USER_MEMORY_REGION2 == CKVM_IOC(1U, 0x49, sizeof(struct ckvm_userspace_memory_region2)), "");
_Static_assert(CKVM_IOCTL_ENABLE_CAP == CKVM_IOC(1U, 0xa3, sizeof(struct kvm_enable_cap)), "");
_Static_assert(CKVM_IOCTL_MEMORY_ENCRYPT_OP == CKVM_IOC(3U, 0xba, sizeof(unsigned long)), "");
_Static_assert(CKVM_IOCTL_SET_MEMORY_ATTRIBUTES == CKVM_IOC(1U, 0xd2, sizeof(struct ckvm_memory_attributes)), "");
_Static_assert(CKVM_IOCTL_CREATE_GUEST_MEMFD == CKVM_IOC(3U, 0xd4, sizeof(struct ckvm_create_guest_memfd)), "");
_Static_assert(CKVM_IOCTL_PRE_FAULT_MEMORY == CKVM_IOC(3U, 0xd5, sizeof(struct ckvm_pre_fault_memory)), "");
_Static_assert(CKVM_IOCTL_GET_REGS == CKVM_IOC(2U, 0x81, sizeof(struct kvm_regs)), "");
_Static_assert(CKVM_IOCTL_SET_REGS == CKVM_IOC(1U, 0x82, sizeof(struct kvm_regs)), "");
_Static_assert(CKVM_IOCTL_GET_SREGS == CKVM_IOC(2U, 0x83, sizeof(struct kvm_sregs)), "");
_Static_assert(CKVM_IOCTL_SET_SREGS == CKVM_IOC(1U, 0x84, sizeof(struct kvm_sregs)), "");
_Static_assert(CKVM_IOCTL_GET_FPU == CKVM_IOC(2U, 0x8c, sizeof(struct kvm_fpu)), "");
_Static_assert(CKVM_IOCTL_SET_FPU == CKVM_IOC(1U, 0x8d, sizeof(struct kvm_fpu)), "");
_Static_assert(CKVM_IOCTL_GET_XSAVE == CKVM_IOC(2U, 0xa4, sizeof(struct kvm_xsave)), "");
_Static_assert(CKVM_IOCTL_SET_XSAVE == CKVM_IOC(1U, 0xa5, sizeof(struct kvm_xsave)), "");
_Static_assert(CKVM_IOCTL_SET_CPUID2 == CKVM_IOC(1U, 0x90, sizeof(struct kvm_cpuid2)), "");
_Static_assert(CKVM_IOCTL_GET_MP_STATE == CKVM_IOC(2U, 0x98, sizeof(struct kvm_mp_state)), "");
_Static_assert(CKVM_IOCTL_SET_MP_STATE == CKVM_IOC(1U, 0x99, sizeof(struct kvm_mp_state)), "");
_Static_assert(CKVM_IOCTL_SET_GUEST_DEBUG == CKVM_IOC(1U, 0x9b, sizeof(struct kvm_guest_debug)), "");
_Static_assert(CKVM_IOCTL_GET_DEBUGREGS == CKVM_IOC(2U, 0xa1, sizeof(struct kvm_debugregs)), "");
_Static_assert(CKVM_IOCTL_SET_DEBUGREGS == CKVM_IOC(1U, 0xa2, sizeof(struct kvm_debugregs)), "");
/* and, where the 6.1 header knows the request, it agrees */
_Static_assert(CKVM_IOCTL_RUN == KVM_RUN, "");
_Static_assert(CKVM_IOCTL_CREATE_VCPU == KVM_CREATE_VCPU, "");
_Static_assert(CKVM_IOCTL_CHECK_EXTENSION == KVM_CHECK_EXTENSION, "");
_Static_assert(CKVM_IOCTL_GET_SUPPORTED_CPUID == KVM_GET_SUPPORTED_CPUID, "");
_Static_assert(CKVM_IOCTL_GET_DEBUGREGS == KVM_GET_DEBUGREGS, "");
_Static_assert(CKVM_IOCTL_GET_FPU == KVM_GET_FPU, "");
_Static_assert(CKVM_IOCTL_SET_FPU == KVM_SET_FPU, "");
_Static_assert(CKVM_IOCTL_GET_XSAVE == KVM_GET_XSAVE, "");
_Static_assert(CKVM_IOCTL_SET_XSAVE == KVM_SET_XSAVE, "");
_Static_assert(CKVM_IOCTL_SET_DEBUGREGS == KVM_SET_DEBUGREGS, "");
_Static_assert(CKVM_IOCTL_SET_GUEST_DEBUG == KVM_SET_GUEST_DEBUG, "");
_Static_assert(CKVM_IOCTL_ENABLE_CAP == KVM_ENABLE_CAP, "");
_Static_assert(CKVM_IOCTL_GET_MSRS == KVM_GET_MSRS, "");
_Static_assert(CKVM_IOCTL_SET_MSRS == KVM_SET_MSRS, "");
_Static_assert(CKVM_IOCTL_X86_SET_MSR_FILTER == KVM_X86_SET_MSR_FILTER, "");
_Static_assert(sizeof(struct kvm_msr_filter) == 392, "kvm_msr_filter");
_Static_assert(sizeof(struct kvm_msr_filter_range) == 24, "kvm_msr_filter_range");
_Static_assert(sizeof(struct kvm_msr_entry) == 16, "kvm_msr_entry");
_Static_assert(CKVM_IOCTL_MEMORY_ENCRYPT_OP == KVM_MEMORY_ENCRYPT_OP, "");

/* The same offsets as integer constants, so tests can compare C's view with Swift's. */
enum {
    CKVM_OFFSETOF_RUN_IMMEDIATE_EXIT = offsetof(struct kvm_run, immediate_exit),
    CKVM_OFFSETOF_RUN_EXIT_REASON = offsetof(struct kvm_run, exit_reason),
    CKVM_OFFSETOF_RUN_EXIT_UNION = offsetof(struct kvm_run, hw),
    CKVM_OFFSETOF_RUN_VALID_REGS = offsetof(struct kvm_run, kvm_valid_regs),
    CKVM_OFFSETOF_RUN_DIRTY_REGS = offsetof(struct kvm_run, kvm_dirty_regs),
    CKVM_OFFSETOF_RUN_SYNC_REGS = offsetof(struct kvm_run, s),
    CKVM_SIZEOF_RUN = sizeof(struct kvm_run),
    CKVM_OFFSETOF_REGION2_GUEST_MEMFD_OFFSET = offsetof(struct ckvm_userspace_memory_region2, guest_memfd_offset),
    CKVM_OFFSETOF_REGION2_GUEST_MEMFD = offsetof(struct ckvm_userspace_memory_region2, guest_memfd),
    CKVM_SIZEOF_REGION2 = sizeof(struct ckvm_userspace_memory_region2),
    CKVM_SIZEOF_CREATE_GUEST_MEMFD = sizeof(struct ckvm_create_guest_memfd),
    CKVM_SIZEOF_MEMORY_ATTRIBUTES = sizeof(struct ckvm_memory_attributes),
    CKVM_OFFSETOF_HYPERCALL_RET = offsetof(struct ckvm_exit_hypercall, ret),
    CKVM_OFFSETOF_HYPERCALL_FLAGS = offsetof(struct ckvm_exit_hypercall, flags),
    CKVM_OFFSETOF_MSR_INDEX = offsetof(struct ckvm_exit_msr, index),
    CKVM_OFFSETOF_MSR_DATA = offsetof(struct ckvm_exit_msr, data),
    CKVM_OFFSETOF_DEBUG_PC = offsetof(struct ckvm_exit_debug, pc),
    CKVM_OFFSETOF_SNP_UPDATE_TYPE = offsetof(struct ckvm_sev_snp_launch_update, type),
    CKVM_SIZEOF_SNP_UPDATE = sizeof(struct ckvm_sev_snp_launch_update),
    CKVM_SIZEOF_SEV_CMD = sizeof(struct ckvm_sev_cmd),
    CKVM_SIZEOF_TDX_CMD = sizeof(struct ckvm_tdx_cmd),
    CKVM_SIZEOF_TDX_INIT_MEM_REGION = sizeof(struct ckvm_tdx_init_mem_region),
};

/* ------------------------------------------------------------------------------------ */
/* helpers Swift cannot write itself                                                      */
/* ------------------------------------------------------------------------------------ */

/* ioctl(2) is variadic; these are its two shapes. */
static inline int ckvm_ioctl_ptr(int fd, unsigned long request, void *_Nullable arg) {
    return ioctl(fd, request, arg);
}
static inline int ckvm_ioctl_value(int fd, unsigned long request, unsigned long value) {
    return ioctl(fd, request, value);
}

/* Typed views of the kvm_run exit union. */
static inline void *_Nonnull ckvm_run_exit(struct kvm_run *_Nonnull run) {
    return (char *)run + CKVM_RUN_EXIT_OFFSET;
}
static inline struct ckvm_exit_io *_Nonnull ckvm_run_io(struct kvm_run *_Nonnull run) { return (struct ckvm_exit_io *)ckvm_run_exit(run); }
static inline struct ckvm_exit_mmio *_Nonnull ckvm_run_mmio(struct kvm_run *_Nonnull run) { return (struct ckvm_exit_mmio *)ckvm_run_exit(run); }
static inline struct ckvm_exit_debug *_Nonnull ckvm_run_debug(struct kvm_run *_Nonnull run) { return (struct ckvm_exit_debug *)ckvm_run_exit(run); }
static inline struct ckvm_exit_hypercall *_Nonnull ckvm_run_hypercall(struct kvm_run *_Nonnull run) { return (struct ckvm_exit_hypercall *)ckvm_run_exit(run); }
static inline struct ckvm_exit_msr *_Nonnull ckvm_run_msr(struct kvm_run *_Nonnull run) { return (struct ckvm_exit_msr *)ckvm_run_exit(run); }
static inline struct ckvm_exit_memory_fault *_Nonnull ckvm_run_memory_fault(struct kvm_run *_Nonnull run) { return (struct ckvm_exit_memory_fault *)ckvm_run_exit(run); }
static inline struct ckvm_exit_internal *_Nonnull ckvm_run_internal(struct kvm_run *_Nonnull run) { return (struct ckvm_exit_internal *)ckvm_run_exit(run); }
static inline struct ckvm_exit_fail_entry *_Nonnull ckvm_run_fail_entry(struct kvm_run *_Nonnull run) { return (struct ckvm_exit_fail_entry *)ckvm_run_exit(run); }
static inline struct ckvm_exit_system_event *_Nonnull ckvm_run_system_event(struct kvm_run *_Nonnull run) { return (struct ckvm_exit_system_event *)ckvm_run_exit(run); }

/* The register blocks KVM_CAP_SYNC_REGS shares through kvm_run->s.regs. */
static inline struct kvm_regs *_Nonnull ckvm_run_sync_regs(struct kvm_run *_Nonnull run) { return &run->s.regs.regs; }
static inline struct kvm_sregs *_Nonnull ckvm_run_sync_sregs(struct kvm_run *_Nonnull run) { return &run->s.regs.sregs; }

/* immediate_exit is written by a kicking thread while KVM_RUN may read it. */
static inline void ckvm_run_set_immediate_exit(struct kvm_run *_Nonnull run, uint8_t value) {
    __atomic_store_n(&run->immediate_exit, value, __ATOMIC_SEQ_CST);
}

/* Implemented in ckvm.c. */

/* Installs a no-op handler for `signo` without SA_RESTART, so a thread blocked in KVM_RUN
 * that receives the signal returns EINTR. Idempotent. Returns 0, or the errno of sigaction. */
int ckvm_install_kick_handler(int signo);
int ckvm_unblock_signal(int signo);

/* fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length). */
int ckvm_punch_hole(int fd, int64_t offset, int64_t length);

/* MAP_FAILED, which Swift cannot import. */
static inline int ckvm_is_map_failed(const void *_Nullable p) { return p == (const void *)-1; }

/* madvise advice values used to discard a shared backing. */
#define CKVM_MADV_DONTNEED 4
#define CKVM_MADV_REMOVE   9

/* memfd_create(2) without _GNU_SOURCE (glibc declares it only with it): a shared file for
 * memory that needs two mappings, the guest's and the host's. */
#include <sys/syscall.h>
#include <unistd.h>
#define CKVM_MFD_CLOEXEC 0x0001U   /* include/uapi/linux/memfd.h MFD_CLOEXEC */
static inline int ckvm_memfd_create(const char *_Nonnull name, unsigned int flags) {
    return (int)syscall(SYS_memfd_create, name, flags);
}

#endif /* CKVM_H */
