// IPC internals shared by the files of kernel/ipc/: the objects, message copies, timeouts and
// the per-type hooks run when a process gains or loses handles.
#pragma once
#include <kernel/kobj.h>
#include <kernel/list.h>
#include <kernel/proc.h>
#include <kernel/sched.h>
#include <multios/syscalls.h>
#include <stddef.h>
#include <stdint.h>

// A message travels as its header plus the len bytes of data in use, never the whole struct.
#define MSG_HDR_SIZE offsetof(struct mos_msg, data)
_Static_assert(MSG_HDR_SIZE == 48, "struct mos_msg header layout");
_Static_assert(sizeof(struct mos_msg) == 256, "struct mos_msg size");

static inline size_t msg_size(const struct mos_msg *m) { return MSG_HDR_SIZE + m->len; }

struct endpoint {
    struct kobj obj;
    struct process *server;     // the creator; NULL once it died or closed its last handle
    struct list_head sendq;     // struct pending of calls not yet received, oldest first
    struct list_head inflight;  // struct pending of calls received and not yet answered
    struct list_head receivers; // struct receiver: server threads blocked in ipc_recv
    uint64_t bits;              // the notification word
    struct wait_queue notifyq;
};

// Copy a message in from user space: -MOS_EFAULT, -MOS_EINVAL (len too long), or 0.
long ipc_msg_from_user(struct mos_msg *k, const struct mos_msg *u);
// The object behind handle H of the current process when it is of TYPE, with a reference the
// caller drops with kobj_put; NULL when there is none.
struct kobj *ipc_get(int h, enum kobj_type type);
// How many handles of P name O.
int ipc_handle_count(const struct process *p, const struct kobj *o);

// Timeouts as the ABI gives them (0 polls, MOS_TIMEOUT_FOREVER never ends) turned into an
// absolute deadline, and back into what wq_wait takes. remaining() is 0 once it has passed.
uint64_t ipc_deadline(uint64_t timeout_ns);
uint64_t ipc_remaining(uint64_t deadline);
// One wait of a blocking call's loop, interrupts off: 0 when woken (look again), or why to give
// up: -MOS_EAGAIN (timeout 0: a poll), -MOS_ETIMEDOUT (the deadline passed), -MOS_EINTR.
long ipc_block(struct wait_queue *wq, uint64_t timeout_ns, uint64_t deadline);

// Per-type hooks, called with interrupts off.
void endpoint_lost(struct endpoint *ep, struct process *p); // P closed its last handle to EP
void endpoint_abandon_calls(struct process *p);             // P's threads stop waiting for replies
void queue_granted(struct kobj *o, struct process *from, struct process *to);
void queue_closed(struct kobj *o); // one handle to the queue was closed
// P is dying: drop the references its shared-memory mappings hold. Interrupts on.
void shm_process_exit(struct process *p);
