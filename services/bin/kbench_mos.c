// kbench's primitives on MultiOS (see kbench_os.h).
#include "kbench_os.h"

#include <mos.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const kb_system = "MultiOS";

double kb_tsc_hz(void) {
    long hz = mos_tsc_hz();
    return hz > 0 ? (double)hz : -1.0;
}

void kb_null_syscall(void) {
    mos_getpid();
}

// The IPC server: a child that creates an endpoint, grants it to its parent and answers
// calls, swapping the two words.
static int ipc_server(long ppid) {
    int ep = (int)mos_endpoint_create();
    if (ep < 0 || mos_handle_grant(ep, ppid) < 0)
        return 1;
    struct mos_msg m;
    long token = mos_ipc_recv(ep, &m);
    for (;;) {
        if (token <= 0)
            return 1;
        uint64_t w = m.words[0];
        m.words[0] = m.words[1];
        m.words[1] = w;
        mos_ipc_reply(token, &m);
        token = mos_ipc_recv(ep, &m);
    }
}

int kb_role(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--server"))
        return ipc_server(atol(argv[2]));
    return -1;
}

static long ipc_pid;
static int ipc_ep = -1;

// The endpoint the server child granted: the first handle that is an endpoint (this
// process creates none).
static int find_endpoint(void) {
    uint64_t deadline = (uint64_t)mos_clock_ns() + 10000000000ull;
    while ((uint64_t)mos_clock_ns() < deadline) {
        for (int h = MOS_COM2 + 1; h < 256; h++)
            if (mos_notify(h, 0) == 0)
                return h;
        mos_sleep_ns(1000000);
    }
    return -1;
}

int kb_ipc_start(void) {
    char ppid[24];
    snprintf(ppid, sizeof ppid, "%ld", mos_getpid());
    const char *argv[] = {"kbench", "--server", ppid, NULL};
    ipc_pid = mos_spawnv("/bin/kbench", argv);
    if (ipc_pid < 0) {
        printf("kbench: cannot start the IPC server: %s\n", mos_errname(ipc_pid));
        return -1;
    }
    ipc_ep = find_endpoint();
    if (ipc_ep < 0) {
        printf("kbench: the IPC server granted no endpoint\n");
        kb_ipc_stop();
        return -1;
    }
    return 0;
}

int kb_ipc_roundtrip(void) {
    struct mos_msg req = {.tag = 1, .words = {1, 2}}, rep;
    long r = mos_ipc_call(ipc_ep, &req, &rep);
    if (r != 0 || rep.words[0] != 2) {
        printf("kbench: ipc_call: %s\n", mos_errname(r));
        return -1;
    }
    return 0;
}

void kb_ipc_stop(void) {
    if (ipc_pid > 0) {
        mos_kill(ipc_pid);
        mos_wait(ipc_pid, NULL);
    }
    if (ipc_ep >= 0)
        mos_handle_close(ipc_ep);
    ipc_pid = 0;
    ipc_ep = -1;
}

int kb_spawn_wait(void) {
    static const char *const argv[] = {"true", NULL};
    long pid = mos_spawnv("/bin/true", argv);
    int status = -1;
    long r = pid > 0 ? mos_wait(pid, &status) : pid;
    if (r != pid || status != 0) {
        printf("kbench: spawn /bin/true: %s (status %#x)\n", mos_errname(r), status);
        return -1;
    }
    return 0;
}

char *kb_lazy_map(size_t bytes) {
    long a = mos_mmap_anon(bytes, MOS_PROT_READ | MOS_PROT_WRITE | MOS_MAP_LAZY);
    if (a < 0) {
        printf("kbench: mmap_anon(MOS_MAP_LAZY): %s\n", mos_errname(a));
        return NULL;
    }
    return (char *)a;
}

void kb_lazy_unmap(char *p, size_t bytes) {
    mos_munmap((uintptr_t)p, bytes);
}

// The second thread yields until told to stop; each kb_yield of the first then switches to it
// and back.
static volatile int switch_stop;
static struct mos_thread switcher;

static void switch_loop(void *arg) {
    (void)arg;
    while (!switch_stop)
        mos_yield();
}

int kb_switch_start(void) {
    switch_stop = 0;
    long tid = mos_thread_spawn(&switcher, switch_loop, NULL, 0);
    if (tid < 0) {
        printf("kbench: ctx_switch: thread_create: %s\n", mos_errname(tid));
        return -1;
    }
    return 0;
}

void kb_yield(void) {
    mos_yield();
}

void kb_switch_stop(void) {
    switch_stop = 1;
    mos_thread_collect(&switcher);
}
