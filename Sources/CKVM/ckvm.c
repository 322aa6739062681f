/* Out-of-line helpers of ckvm.h that need _GNU_SOURCE or a C function pointer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <linux/falloc.h>
#include "ckvm.h"

/* The kick signal exists only to make a blocking KVM_RUN return EINTR; it does nothing. */
static void ckvm_kick_handler(int signo) { (void)signo; }

int ckvm_install_kick_handler(int signo) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = ckvm_kick_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0; /* no SA_RESTART: the interrupted ioctl must fail with EINTR */
    return sigaction(signo, &action, NULL) == 0 ? 0 : errno;
}

/* A thread inherits its creator's signal mask, and libdispatch's worker threads block every
   signal: a vCPU thread started from one would never see the kick. */
int ckvm_unblock_signal(int signo) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    return pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int ckvm_punch_hole(int fd, int64_t offset, int64_t length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length);
}
