// Kernel objects behind handles. A process can only name objects through handles it was given
// (created, granted, or inherited standard ones); handle numbers are per process.
#pragma once
#include <stdint.h>

enum kobj_type {
    KOBJ_NONE = 0,
    KOBJ_CONSOLE,
    KOBJ_FILE,
    KOBJ_ENDPOINT,
    KOBJ_NOTIFY,
    KOBJ_QUEUE,
    KOBJ_SHM,
    KOBJ_SEM,
    KOBJ_TYPES,
};

struct kobj {
    enum kobj_type type;
    int refs;
    void (*release)(struct kobj *o); // called when the last reference goes
};

#define HANDLES_MAX 256

struct process;

void kobj_init(struct kobj *o, enum kobj_type type, void (*release)(struct kobj *));
void kobj_get(struct kobj *o);
void kobj_put(struct kobj *o);

// A new handle in P for O (takes a reference): its number, or -MOS_EMFILE.
int handle_install(struct process *p, struct kobj *o);
// The object behind handle H of P when it is of TYPE (KOBJ_NONE: any type), borrowed (no new
// reference; valid while the caller runs with interrupts off or holds the handle); NULL else.
struct kobj *handle_lookup(struct process *p, int h, enum kobj_type type);
// 0, or -MOS_EBADF.
int handle_close(struct process *p, int h);
