// Endpoints: synchronous call/reply, L4 style. A caller copies its request into a record on its
// own kernel stack and blocks on it; the server's ipc_recv copies the request out of that record
// and gets a reply token naming it; ipc_reply copies the answer into the record and wakes the
// caller, which copies it out. When a server thread is already waiting, the call is handed to
// it directly (no queueing) and the caller's block switches to it.
//
// Tokens are serial numbers (1, 2, 3, ... never reused) that enter a table when a call is
// received and leave it when it is answered or fails, so a stale token matches nothing; only
// the endpoint's server may answer, so a guessed token is no use to anyone else.
#include <hal/time.h>
#include "ipc.h"

#include <kernel/ipc.h>
#include <kernel/mm.h>
#include <kernel/string.h>
#include <multios/errno.h>
#include <syscall_dispatch.h>

// QUEUED: on ep->sendq. HANDED: given to a waiting server thread that has not run yet (on
// ep->inflight, no token). RECEIVED: on ep->inflight with a token. DONE: result is set.
enum call_state { CALL_QUEUED, CALL_HANDED, CALL_RECEIVED, CALL_DONE };

// A call as the endpoint and the token table see it. A call whose caller left after the server
// received it keeps a pending of its own (call NULL), so that the reply learns -MOS_ESRCH.
struct pending {
    struct list_head hlink; // token table bucket, while received
    struct list_head link;  // the endpoint's sendq or inflight
    long token;             // 0 until received
    struct endpoint *ep;
    struct call *call;
};

struct call {
    struct pending p;
    struct process *caller;
    struct list_head active; // every call in progress, for process exit
    enum call_state state;
    struct receiver *receiver; // while CALL_HANDED
    long result; // once CALL_DONE: 0 (msg holds the reply) or -MOS_E*
    struct wait_queue wq; // the caller waits here
    struct mos_msg msg;   // the request, then the reply
};

struct receiver {
    struct list_head link; // ep->receivers
    struct call *call;     // the call handed over, or NULL
    struct wait_queue wq;
};

enum { TOKEN_BUCKETS = 64 };
static struct list_head tokens[TOKEN_BUCKETS];
static bool tokens_ready;
static long next_token = 1;
static struct list_head active_calls = LIST_INIT(active_calls);

static struct list_head *bucket(long token) {
    if (!tokens_ready) {
        for (int i = 0; i < TOKEN_BUCKETS; i++)
            list_init(&tokens[i]);
        tokens_ready = true;
    }
    return &tokens[token & (TOKEN_BUCKETS - 1)];
}

static struct pending *token_find(long token) {
    struct list_head *b = bucket(token);
    list_for_each(pos, b) {
        struct pending *pd = list_entry(pos, struct pending, hlink);
        if (pd->token == token)
            return pd;
    }
    return NULL;
}

static void list_replace(struct list_head *old, struct list_head *new) {
    if (list_empty(old)) {
        list_init(new);
        return;
    }
    list_add(new, old);
    list_del(old);
}

// The server takes call C: it gets a token and waits for the reply on ep->inflight.
static void mark_received(struct endpoint *ep, struct call *c) {
    list_del(&c->p.link);
    c->state = CALL_RECEIVED;
    c->receiver = NULL;
    c->p.token = next_token++;
    list_add_tail(&c->p.hlink, bucket(c->p.token));
    list_add_tail(&c->p.link, &ep->inflight);
}

// Give call C (on no list) to the server thread waiting in R, and make that thread ready.
static void hand_over(struct endpoint *ep, struct call *c, struct receiver *r) {
    c->state = CALL_HANDED;
    c->receiver = r;
    r->call = c;
    list_add_tail(&c->p.link, &ep->inflight);
    wq_wake_one(&r->wq, 0);
}

// A call handed over but not yet taken is taken back: the server thread finds nothing.
static void take_back(struct call *c) {
    if (c->state == CALL_HANDED && c->receiver) {
        c->receiver->call = NULL;
        c->receiver = NULL;
    }
}

static void finish(struct call *c, long result) {
    take_back(c);
    c->state = CALL_DONE;
    c->result = result;
    wq_wake_one(&c->wq, result);
}

// Hand queued calls to waiting server threads.
static void dispatch(struct endpoint *ep) {
    while (!list_empty(&ep->sendq) && !list_empty(&ep->receivers)) {
        struct call *c = list_entry(list_pop(&ep->sendq), struct call, p.link);
        hand_over(ep, c, list_entry(list_pop(&ep->receivers), struct receiver, link));
    }
}

// The server is gone: every call, queued or received, fails with -MOS_EPIPE, and nothing waits
// on the endpoint any more. Interrupts are off.
static void kill_endpoint(struct endpoint *ep) {
    ep->server = NULL;
    struct list_head *n;
    while ((n = list_pop(&ep->sendq)))
        finish(list_entry(n, struct pending, link)->call, -MOS_EPIPE);
    while ((n = list_pop(&ep->inflight))) {
        struct pending *pd = list_entry(n, struct pending, link);
        list_del(&pd->hlink);
        if (pd->call)
            finish(pd->call, -MOS_EPIPE);
        else
            kfree(pd);
    }
    while ((n = list_pop(&ep->receivers)))
        wq_wake_one(&list_entry(n, struct receiver, link)->wq, -MOS_EPIPE);
    wq_wake_all(&ep->notifyq, -MOS_EPIPE);
}

void endpoint_lost(struct endpoint *ep, struct process *p) {
    if (ep->server == p)
        kill_endpoint(ep);
}

// The caller stops waiting (interrupted, or its process is dying): take the call off the
// endpoint. A received call leaves a stand-in behind so the server's reply gets -MOS_ESRCH.
static void abandon(struct call *c) {
    if (c->state == CALL_QUEUED || c->state == CALL_HANDED) {
        take_back(c);
        list_del(&c->p.link);
    } else if (c->state == CALL_RECEIVED) {
        struct pending *stale = kmalloc(sizeof *stale);
        if (stale) {
            stale->token = c->p.token;
            stale->ep = c->p.ep;
            stale->call = NULL;
            list_replace(&c->p.hlink, &stale->hlink);
            list_replace(&c->p.link, &stale->link);
        } else {
            list_del(&c->p.hlink);
            list_del(&c->p.link);
        }
    }
    c->state = CALL_DONE;
    c->result = -MOS_EINTR;
}

void endpoint_abandon_calls(struct process *p) {
    list_for_each_safe(pos, tmp, &active_calls) {
        struct call *c = list_entry(pos, struct call, active);
        if (c->caller == p && c->state != CALL_DONE) {
            abandon(c);
            list_del(&c->active);
            wq_wake_one(&c->wq, -MOS_EINTR);
        }
    }
}

static void endpoint_release(struct kobj *o) {
    struct endpoint *ep = (struct endpoint *)o;
    unsigned long f = irq_save();
    kill_endpoint(ep); // frees stand-ins for calls nobody answered
    irq_restore(f);
    kfree(ep);
}

long ksys_endpoint_create(void) {
    struct process *cur = proc_current();
    if (!cur)
        return -MOS_EPERM;
    struct endpoint *ep = kzalloc(sizeof *ep);
    if (!ep)
        return -MOS_ENOMEM;
    kobj_init(&ep->obj, KOBJ_ENDPOINT, endpoint_release);
    ep->server = cur;
    list_init(&ep->sendq);
    list_init(&ep->inflight);
    list_init(&ep->receivers);
    wq_init(&ep->notifyq);
    long h = handle_install(cur, &ep->obj);
    kobj_put(&ep->obj); // the handle holds it now (or nothing does, and it is freed)
    return h;
}

// Make call C (its request in c->msg, len checked) on EP and wait for the answer in c->msg.
static long do_call(struct endpoint *ep, struct call *c) {
    struct process *cur = proc_current();
    c->msg.sender = cur ? cur->pid : 0;
    c->caller = cur;
    c->result = 0;
    c->p.token = 0;
    c->p.ep = ep;
    c->p.call = c;
    c->receiver = NULL;
    list_init(&c->p.hlink);
    list_init(&c->p.link);
    wq_init(&c->wq);

    unsigned long f = irq_save();
    if (!ep->server) {
        irq_restore(f);
        return -MOS_EPIPE;
    }
    list_add_tail(&c->active, &active_calls);
    if (!list_empty(&ep->receivers)) {
        // The fast path: a server thread waits, so hand it the call and run it.
        hand_over(ep, c, list_entry(list_pop(&ep->receivers), struct receiver, link));
    } else {
        c->state = CALL_QUEUED;
        list_add_tail(&c->p.link, &ep->sendq);
    }
    while (c->state != CALL_DONE) {
        long w = wq_wait(&c->wq, WAIT_FOREVER);
        if (c->state != CALL_DONE && w < 0)
            abandon(c);
    }
    list_del(&c->active);
    irq_restore(f);
    return c->result;
}

long ipc_kcall(struct kobj *o, struct mos_msg *msg) {
    if (!o || o->type != KOBJ_ENDPOINT)
        return -MOS_EBADF;
    if (msg->len > MOS_MSG_DATA_MAX)
        return -MOS_EINVAL;
    struct call c;
    memcpy(&c.msg, msg, msg_size(msg));
    kobj_get(o);
    long r = do_call((struct endpoint *)o, &c);
    kobj_put(o);
    if (r == 0)
        memcpy(msg, &c.msg, msg_size(&c.msg));
    return r;
}

long ksys_ipc_call(int h, const struct mos_msg *req, struct mos_msg *reply) {
    struct endpoint *ep = (struct endpoint *)ipc_get(h, KOBJ_ENDPOINT);
    if (!ep)
        return -MOS_EBADF;
    struct call c;
    long r = ipc_msg_from_user(&c.msg, req);
    if (r == 0 && !user_range_ok((uintptr_t)reply, sizeof *reply))
        r = -MOS_EFAULT;
    if (r == 0)
        r = do_call(ep, &c);
    if (r == 0 && copy_to_user(reply, &c.msg, msg_size(&c.msg)) < 0)
        r = -MOS_EFAULT;
    kobj_put(&ep->obj);
    return r;
}

// Receive with a time limit: timeout_ns 0 polls, WAIT_FOREVER waits without one.
static long recv(int h, struct mos_msg *msg, uint64_t timeout_ns) {
    struct process *cur = proc_current();
    uint64_t now = hal_time_ns();
    uint64_t deadline = timeout_ns == WAIT_FOREVER || timeout_ns > UINT64_MAX - now ? WAIT_FOREVER : now + timeout_ns;
    struct endpoint *ep = (struct endpoint *)ipc_get(h, KOBJ_ENDPOINT);
    if (!ep)
        return -MOS_EBADF;
    long r;
    unsigned long f = irq_save();
    if (ep->server != cur) {
        r = -MOS_EPERM;
        goto out;
    }
    if (!user_range_ok((uintptr_t)msg, sizeof *msg)) {
        r = -MOS_EFAULT;
        goto out;
    }
    for (;;) {
        struct call *c = NULL;
        if (!ep->server) { // another thread of the server closed it under us
            r = -MOS_EINTR;
            break;
        }
        if (!list_empty(&ep->sendq)) {
            c = list_entry(ep->sendq.next, struct call, p.link);
        } else {
            struct receiver rv = {.call = NULL};
            wq_init(&rv.wq);
            list_add_tail(&rv.link, &ep->receivers);
            uint64_t left = deadline;
            if (deadline != WAIT_FOREVER) {
                uint64_t t = hal_time_ns();
                left = t >= deadline ? 0 : deadline - t;
            }
            long w = wq_wait(&rv.wq, left);
            list_del(&rv.link);
            c = rv.call;
            if (!c && w == -MOS_ETIMEDOUT) {
                r = -MOS_ETIMEDOUT;
                break;
            }
            if (!c && w != -MOS_EPIPE && w < 0) {
                r = -MOS_EINTR;
                break;
            }
            if (!c)
                continue;
        }
        mark_received(ep, c);
        // Copied with interrupts off so the call cannot vanish under the copy; if the buffer
        // is bad, the call goes back to the front of the queue for the next receive.
        if (copy_to_user(msg, &c->msg, msg_size(&c->msg)) < 0) {
            list_del(&c->p.hlink);
            list_del(&c->p.link);
            c->p.token = 0;
            c->state = CALL_QUEUED;
            list_add(&c->p.link, &ep->sendq);
            dispatch(ep);
            r = -MOS_EFAULT;
            break;
        }
        r = c->p.token;
        break;
    }
out:
    irq_restore(f);
    kobj_put(&ep->obj);
    return r;
}

long ksys_ipc_recv(int h, struct mos_msg *msg) { return recv(h, msg, WAIT_FOREVER); }

long ksys_ipc_recv_timeout(int h, struct mos_msg *msg, uint64_t timeout_ns) { return recv(h, msg, timeout_ns); }

long ksys_ipc_reply(long token, const struct mos_msg *reply) {
    struct process *cur = proc_current();
    if (token <= 0)
        return -MOS_EINVAL;
    struct mos_msg k;
    long r = ipc_msg_from_user(&k, reply);
    if (r < 0)
        return r;
    k.sender = cur ? cur->pid : 0;
    unsigned long f = irq_save();
    struct pending *pd = token_find(token);
    if (!pd || !cur || pd->ep->server != cur) {
        r = -MOS_EINVAL;
    } else if (!pd->call) {
        list_del(&pd->hlink);
        list_del(&pd->link);
        kfree(pd);
        r = -MOS_ESRCH;
    } else {
        struct call *c = pd->call;
        list_del(&pd->hlink);
        list_del(&pd->link);
        memcpy(&c->msg, &k, msg_size(&k));
        finish(c, 0);
        r = 0;
    }
    irq_restore(f);
    return r;
}
