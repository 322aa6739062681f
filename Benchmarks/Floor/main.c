/*
 * enlighten-floor — what the runner's work costs when done with raw ioctls and nothing
 * else, measured so `enlighten bench` can report the runner as a ratio of it (docs/benchmarks.md).
 *
 *   enlighten-floor setup  IMAGE.elf CR3 [--repeat K] [--memory BYTES]
 *       open /dev/kvm -> VM + guest_memfd + mmap + memslot2 + image copied in + vCPU +
 *       kvm_run + CPUID + long-mode registers, ready to run; K times.
 *   enlighten-floor exits  IMAGE.elf CR3 [--repeat K] [--memory BYTES]
 *       runs the image K times (a fresh VM each, not timed) and times its KVM_RUN loop from
 *       the first entry to the exit on port 0xF4.
 *   enlighten-floor trap   IMAGE.elf CR3 SITE [--repeat K] [--memory BYTES]
 *       like `exits`, with a hardware breakpoint on the KVM_HC_MAP_GPA_RANGE instruction at
 *       SITE, each request served with raw ioctls (trap.c); also counts the requests.
 *   enlighten-floor trap-tdx IMAGE.elf CR3 SITE[,SITE...] [--repeat K] [--memory BYTES]
 *   enlighten-floor trap-snp IMAGE.elf CR3 SITE[,SITE...] [--repeat K] [--memory BYTES]
 *       a TD (trap-tdx.c) or an SNP guest (trap-snp.c) with private memory enforced through
 *       two views, up to four request sites trapped; also counts the conversions and the
 *       validations/acceptances served, and the port writes forwarded as a GHCB IOIO NAE
 *       event / TDVMCALL Instruction.IO (dropped).
 *   enlighten-floor memcpy BYTES [--repeat K]
 *       memcpy of BYTES from a pre-faulted buffer (not in cache) into a fresh, untouched
 *       mapping of a new RAM file in the chosen backing (--backing), as population writes.
 *
 * Every mode takes --backing guest_memfd|memfd and --memslot (see usage()): guest RAM as
 * the runner's RAMBacking has it, so both sides of a figure write the same kind of memory.
 *
 * Output: one JSON object per line with "figure", "samples_ns" (one per repetition),
 * "median_ns", and the figure's own fields. Exit status: 0, 1 on failure, 2 on bad usage,
 * 3 without /dev/kvm.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, O_CLOEXEC with any -std */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

#define MAX_REPEAT 1000
#define FLOOR_MADV_POPULATE_WRITE 23 /* include/uapi/asm-generic/mman-common.h, Linux 5.14 */
#define FLOOR_CHUNK (2ull << 20)

uint64_t floor_now_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

int floor_error(const char *what) {
    fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
    return -1;
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t median(const uint64_t *samples, int count) {
    uint64_t sorted[MAX_REPEAT];
    memcpy(sorted, samples, (size_t)count * sizeof *samples);
    qsort(sorted, (size_t)count, sizeof *sorted, compare_u64);
    return count % 2 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2;
}

/* Prints `"figure":"name","samples_ns":[...],"median_ns":M` without the braces. */
static uint64_t print_samples(const char *figure, const uint64_t *samples, int count) {
    printf("{\"figure\":\"%s\",\"samples_ns\":[", figure);
    for (int i = 0; i < count; i++) printf("%s%llu", i ? "," : "", (unsigned long long)samples[i]);
    uint64_t middle = median(samples, count);
    printf("],\"median_ns\":%llu", (unsigned long long)middle);
    return middle;
}

static int run_setup(const struct floor_image *image, uint64_t memory, int repeat) {
    uint64_t samples[MAX_REPEAT];
    for (int i = 0; i < repeat; i++) {
        struct floor_vm vm;
        uint64_t start = floor_now_ns();
        int result = floor_vm_create(&vm, memory, image, NULL);
        samples[i] = floor_now_ns() - start;
        floor_vm_destroy(&vm);
        if (result != 0) return -1;
    }
    print_samples("setup", samples, repeat);
    printf(",\"memory\":%llu}\n", (unsigned long long)memory);
    return 0;
}

struct loop_count {
    uint64_t exits, requests, elapsed;
};

/* What a mode adds to the default VM and exit loop. */
struct floor_mode {
    const char *name;
    const struct floor_platform *platform;
    /* Extra setup after the VM exists (views, tables, capabilities). */
    int (*prepare)(struct floor_vm *vm, const struct floor_image *image);
    /* Serves a debug exit at a request site; NULL: no sites. */
    int (*serve)(struct floor_vm *vm);
    /* Serves a user-space MSR exit; NULL: none expected. */
    int (*msr)(struct floor_vm *vm);
    /* Whether the line reports conversions and validations. */
    int validated;
};

static const struct floor_mode modes[] = {
    { .name = "exits" },
    { .name = "trap", .serve = floor_trap_serve },
    { .name = "trap-tdx", .platform = &floor_tdx_platform, .prepare = floor_tdx_views, .serve = floor_tdx_serve, .validated = 1 },
    { .name = "trap-snp", .platform = &floor_snp_platform, .prepare = floor_snp_views, .serve = floor_snp_serve,
      .msr = floor_snp_msr, .validated = 1 },
};

/* The whole exit loop of one run: KVM_RUN, decode, answer, until the guest's exit code.
 * Answers the runtime's presence read on the record port as the runner does; every other
 * port write (0x80 in the bench guest) is ignored, the cheapest exit there is. A debug exit
 * is a trapped request and an MSR exit a user-space MSR, served by the mode. */
static int exit_loop(struct floor_vm *vm, const struct floor_mode *mode, struct loop_count *counted) {
    uint64_t count = 0, requests = 0;
    uint64_t start = floor_now_ns();
    for (;;) {
        if (ioctl(vm->vcpu, KVM_RUN, 0) != 0) return floor_error("KVM_RUN");
        count++;
        struct kvm_run *run = vm->run;
        if (mode->serve && run->exit_reason == KVM_EXIT_DEBUG) {
            if (mode->serve(vm) != 0) return -1;
            requests++;
            if (vm->exited) { /* the exit code, forwarded */
                *counted = (struct loop_count){ .exits = count, .requests = requests, .elapsed = floor_now_ns() - start };
                if (vm->exit_code != 0) { fprintf(stderr, "floor: the guest exited with code 0x%x\n", vm->exit_code); return -1; }
                return 0;
            }
            continue;
        }
        if (mode->msr && (run->exit_reason == KVM_EXIT_X86_RDMSR || run->exit_reason == KVM_EXIT_X86_WRMSR)) {
            if (mode->msr(vm) != 0) return -1;
            continue;
        }
        if (run->exit_reason != KVM_EXIT_IO) {
            fprintf(stderr, "floor: unexpected exit reason %u after %llu exits\n", run->exit_reason, (unsigned long long)count);
            return -1;
        }
        uint8_t *data = (uint8_t *)run + run->io.data_offset;
        if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == FLOOR_PORT_EXIT) {
            uint32_t code = 0;
            memcpy(&code, data, run->io.size < sizeof code ? run->io.size : sizeof code);
            *counted = (struct loop_count){ .exits = count, .requests = requests, .elapsed = floor_now_ns() - start };
            if (code != 0) { fprintf(stderr, "floor: the guest exited with code 0x%x\n", code); return -1; }
            return 0;
        }
        if (run->io.direction == KVM_EXIT_IO_IN && run->io.port == FLOOR_PORT_RECORD) {
            memset(data, FLOOR_HOST_PRESENT, (size_t)run->io.size * run->io.count);
        }
    }
}

/* `exits` or a trap mode (request sites): K runs, a fresh VM each, loops timed. */
static int run_loops(const struct floor_image *image, uint64_t memory, const struct floor_mode *mode,
                     const uint64_t *sites, int site_count, int repeat) {
    uint64_t samples[MAX_REPEAT] = { 0 };
    struct loop_count counted = { 0 };
    uint64_t conversions = 0, validations = 0, forwarded = 0;
    for (int i = 0; i < repeat; i++) {
        struct floor_vm vm;
        int result = floor_vm_create(&vm, memory, image, mode->platform);
        if (result == 0 && mode->prepare) result = mode->prepare(&vm, image);
        if (result == 0 && mode->serve) result = floor_trap_arm(&vm, sites, site_count);
        if (result == 0) result = exit_loop(&vm, mode, &counted);
        conversions = vm.conversions;
        validations = vm.validations;
        forwarded = vm.forwarded;
        floor_vm_destroy(&vm);
        if (result != 0) return -1;
        samples[i] = counted.elapsed;
    }
    uint64_t middle = print_samples(mode->name, samples, repeat);
    printf(",\"exits\":%llu,\"ns_per_exit\":%.1f", (unsigned long long)counted.exits, (double)middle / (double)counted.exits);
    if (mode->serve) printf(",\"requests\":%llu,\"ns_per_request\":%.1f", (unsigned long long)counted.requests,
                            counted.requests ? (double)middle / (double)counted.requests : 0.0);
    if (mode->validated) printf(",\"conversions\":%llu,\"validations\":%llu,\"forwarded\":%llu", (unsigned long long)conversions,
                                (unsigned long long)validations, (unsigned long long)forwarded);
    printf("}\n");
    return 0;
}



/* Reads `bytes` of other memory, so that the source is out of the caches; reading (not
 * writing and freeing) keeps the allocator's state as it was for the copy's page faults. */
static void evict_caches(const uint8_t *other, uint64_t bytes) {
    uint64_t sum = 0;
    for (uint64_t offset = 0; offset < bytes; offset += 64) sum += other[offset];
    volatile uint64_t sink = sum;
    (void)sink;
}

/* A VM to own guest_memfds, when the backing is guest_memfd (-1 for a memfd). */
static int memcpy_vm(int *kvm) {
    *kvm = -1;
    if (!floor_backing_needs_vm()) return -1;
    *kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (*kvm < 0) return floor_error("/dev/kvm");
    int vm = ioctl(*kvm, KVM_CREATE_VM, 0);
    if (vm < 0) return floor_error("KVM_CREATE_VM");
    return vm;
}

static int run_memcpy(uint64_t bytes, int repeat) {
    uint64_t samples[MAX_REPEAT];
    uint8_t *source = mmap(NULL, 2 * bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (source == MAP_FAILED) return floor_error("mmap(source)");
    uint8_t *other = source + bytes;
    memset(source, 0x5A, 2 * bytes); /* pre-faulted, as the runner's image bytes are */
    int kvm, vm = memcpy_vm(&kvm), result = 0;
    if (floor_backing_needs_vm() && vm < 0) result = -1;
    for (int i = 0; i < repeat && result == 0; i++) {
        /* ... but not in cache, as the runner's are not: its image was read rounds ago. */
        evict_caches(other, bytes);
        /* A new RAM file of the runner's backing, fresh and untouched as the runner's is:
         * the copy pays the faults. Made and mapped before the clock starts, as the
         * runner's population is timed only around the copy. */
        int file = floor_ram_file(vm, bytes);
        if (file < 0) { result = -1; break; }
        uint8_t *destination = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0);
        if (destination == MAP_FAILED) { close(file); result = floor_error("mmap(destination)"); break; }
        uint64_t start = floor_now_ns();
        /* 2 MiB at a time, each chunk's pages faulted in with one call and copied while
         * they are still in cache: the fastest plain way to fill a fresh shared file mapping
         * found here (a fault per 4 KiB page, or one populate of the whole range, costs the
         * copy 2-3x), and what the runner's population does. Best effort, as there: older
         * kernels lack the advice and the copy then faults the pages itself. */
        for (uint64_t offset = 0; offset < bytes; offset += FLOOR_CHUNK) {
            uint64_t length = bytes - offset < FLOOR_CHUNK ? bytes - offset : FLOOR_CHUNK;
            (void)madvise(destination + offset, length, FLOOR_MADV_POPULATE_WRITE);
            memcpy(destination + offset, source + offset, length);
        }
        samples[i] = floor_now_ns() - start;
        volatile uint8_t last = destination[bytes - 1]; /* the copy must happen */
        (void)last;
        munmap(destination, bytes);
        close(file);
    }
    if (vm >= 0) close(vm);
    if (kvm >= 0) close(kvm);
    munmap(source, 2 * bytes);
    if (result != 0) return -1;
    uint64_t middle = print_samples("memcpy", samples, repeat);
    printf(",\"bytes\":%llu,\"bytes_per_second\":%.0f}\n", (unsigned long long)bytes, (double)bytes * 1e9 / (double)middle);
    return 0;
}

static int usage(void) {
    fprintf(stderr,
            "usage: enlighten-floor setup IMAGE.elf CR3 [--repeat K] [--memory BYTES]\n"
            "       enlighten-floor exits IMAGE.elf CR3 [--repeat K] [--memory BYTES]\n"
            "       enlighten-floor trap IMAGE.elf CR3 SITE [--repeat K] [--memory BYTES]\n"
            "       enlighten-floor trap-tdx IMAGE.elf CR3 SITE[,SITE...] [--repeat K] [--memory BYTES]\n"
            "       enlighten-floor trap-snp IMAGE.elf CR3 SITE[,SITE...] [--repeat K] [--memory BYTES]\n"
            "       enlighten-floor memcpy BYTES [--repeat K]\n"
            "every VM mode also takes --backing guest_memfd|memfd (default guest_memfd) and\n"
            "--memslot KVM_SET_USER_MEMORY_REGION2|KVM_SET_USER_MEMORY_REGION (default the first):\n"
            "guest RAM as the runner's RAMBacking has it\n");
    return 2;
}

/* Reads a decimal or 0x-hex count; 0 when it is not one. */
static uint64_t number(const char *text) {
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 0);
    return (errno || !end || *end || end == text) ? 0 : (uint64_t)value;
}

/* SITE[,SITE...]: up to four addresses; the count, or 0 when it is not that. */
static int parse_sites(const char *text, uint64_t *sites) {
    char copy[256];
    if (strlen(text) >= sizeof copy) return 0;
    strcpy(copy, text);
    int count = 0;
    for (char *next = strtok(copy, ","); next; next = strtok(NULL, ",")) {
        if (count == FLOOR_MAX_SITES || (sites[count] = number(next)) == 0) return 0;
        count++;
    }
    return count;
}

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    const char *name = argv[1];
    const struct floor_mode *mode = NULL;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(name, modes[i].name) == 0) mode = &modes[i];
    }
    int trap = mode && mode->serve;
    int positional = strcmp(name, "memcpy") == 0 ? 1 : trap ? 3 : 2;
    int repeat = 5;
    uint64_t memory = 64ull << 20;
    struct floor_backing ram = { .memfd = 0, .region2 = 1 };
    for (int i = 2 + positional; i < argc; i += 2) {
        if (i + 1 >= argc) return usage();
        if (strcmp(argv[i], "--repeat") == 0) repeat = (int)number(argv[i + 1]);
        else if (strcmp(argv[i], "--memory") == 0) memory = number(argv[i + 1]);
        else if (strcmp(argv[i], "--backing") == 0 && strcmp(argv[i + 1], "guest_memfd") == 0) ram.memfd = 0;
        else if (strcmp(argv[i], "--backing") == 0 && strcmp(argv[i + 1], "memfd") == 0) ram.memfd = 1;
        else if (strcmp(argv[i], "--memslot") == 0 && strcmp(argv[i + 1], "KVM_SET_USER_MEMORY_REGION2") == 0) ram.region2 = 1;
        else if (strcmp(argv[i], "--memslot") == 0 && strcmp(argv[i + 1], "KVM_SET_USER_MEMORY_REGION") == 0) ram.region2 = 0;
        else return usage();
    }
    if (argc < 2 + positional || repeat < 1 || repeat > MAX_REPEAT || memory == 0 || memory % 4096) return usage();
    if (ram.memfd == 0 && ram.region2 == 0) return usage(); /* guest_memfd binds only through memslots v2 */
    floor_set_backing(ram);

    if (strcmp(name, "memcpy") == 0) {
        uint64_t bytes = number(argv[2]);
        if (bytes == 0) return usage();
        return run_memcpy(bytes, repeat) == 0 ? 0 : 1;
    }
    int setup = strcmp(name, "setup") == 0;
    if (!setup && !mode) return usage();
    if (access("/dev/kvm", R_OK | W_OK) != 0) return floor_error("/dev/kvm"), 3;
    uint64_t cr3 = number(argv[3]), sites[FLOOR_MAX_SITES] = { 0 };
    int site_count = trap ? parse_sites(argv[4], sites) : 0;
    if (cr3 == 0 || (trap && site_count == 0) || (trap && !mode->validated && site_count != 1)) return usage();
    struct floor_image image;
    if (floor_image_read(argv[2], cr3, &image) != 0) return 1;
    int result = setup ? run_setup(&image, memory, repeat) : run_loops(&image, memory, mode, sites, site_count, repeat);
    floor_image_free(&image);
    return result == 0 ? 0 : 1;
}
