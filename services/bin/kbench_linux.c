// kbench's primitives on Linux (see kbench_os.h), for the Linux peer of ./multios bench:
// built on the host, static against glibc (tools/linuxpeer.py), run in the peer's initramfs.
#define _GNU_SOURCE
#include "kbench_os.h"

#include <pthread.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *const kb_system = "Linux";

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// The TSC against CLOCK_MONOTONIC over 200 ms: the kernel's own figure is not offered to user
// space (only to dmesg), and the error of the two reads at each end is well below 0.01 %.
double kb_tsc_hz(void) {
    uint64_t n0 = mono_ns(), t0 = kb_tsc();
    struct timespec d = {0, 200000000};
    while (nanosleep(&d, &d) != 0)
        ;
    uint64_t n1 = mono_ns(), t1 = kb_tsc();
    return n1 > n0 ? (double)(t1 - t0) * 1e9 / (double)(n1 - n0) : -1.0;
}

int kb_role(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return -1; // the IPC peer is a fork, not a program of its own
}

// The raw system call: glibc's getpid() is a real call since 2.25, but this says so.
void kb_null_syscall(void) {
    syscall(SYS_getpid);
}

static pid_t ipc_pid;
static int to_peer = -1, from_peer = -1;

int kb_ipc_start(void) {
    int req[2], rep[2];
    if (pipe(req) < 0 || pipe(rep) < 0) {
        printf("kbench: pipe: %s\n", strerror(errno));
        return -1;
    }
    ipc_pid = fork();
    if (ipc_pid < 0) {
        printf("kbench: fork: %s\n", strerror(errno));
        return -1;
    }
    if (ipc_pid == 0) {
        // The peer echoes each byte back until its parent closes the request pipe.
        close(req[1]);
        close(rep[0]);
        char c;
        while (read(req[0], &c, 1) == 1)
            if (write(rep[1], &c, 1) != 1)
                break;
        _exit(0);
    }
    close(req[0]);
    close(rep[1]);
    to_peer = req[1];
    from_peer = rep[0];
    return 0;
}

int kb_ipc_roundtrip(void) {
    char c = 'x', r = 0;
    if (write(to_peer, &c, 1) != 1 || read(from_peer, &r, 1) != 1 || r != c) {
        printf("kbench: pipe round trip: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

void kb_ipc_stop(void) {
    if (to_peer >= 0)
        close(to_peer);
    if (from_peer >= 0)
        close(from_peer);
    if (ipc_pid > 0)
        waitpid(ipc_pid, NULL, 0);
    to_peer = from_peer = -1;
    ipc_pid = 0;
}

int kb_spawn_wait(void) {
    static char *const argv[] = {"true", NULL};
    static char *const envp[] = {NULL};
    pid_t pid = fork();
    if (pid < 0) {
        printf("kbench: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        execve("/bin/true", argv, envp);
        _exit(127);
    }
    int status = -1;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("kbench: fork + exec /bin/true: status %#x\n", status);
        return -1;
    }
    return 0;
}

// Anonymous private memory without MAP_POPULATE: each page is backed at its first touch.
char *kb_lazy_map(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        printf("kbench: mmap: %s\n", strerror(errno));
        return NULL;
    }
    // No transparent huge page: one fault must back one 4 KiB page, as on MultiOS.
    madvise(p, bytes, MADV_NOHUGEPAGE);
    return p;
}

void kb_lazy_unmap(char *p, size_t bytes) {
    munmap(p, bytes);
}

static pthread_t other;
static atomic_int stop;

static void *yielder(void *arg) {
    (void)arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed))
        sched_yield();
    return NULL;
}

// The guest has one CPU, so each sched_yield of one thread runs the other once.
int kb_switch_start(void) {
    atomic_store(&stop, 0);
    int e = pthread_create(&other, NULL, yielder, NULL);
    if (e != 0) {
        printf("kbench: pthread_create: %s\n", strerror(e));
        return -1;
    }
    return 0;
}

void kb_yield(void) {
    sched_yield();
}

void kb_switch_stop(void) {
    atomic_store(&stop, 1);
    pthread_join(other, NULL);
}
