// Shared memory: an object owning zeroed frames. Every mapping holds a reference to it, like a
// handle does, so the frames are freed once, when the last handle and the last mapping are gone.
#include "ipc.h"

#include <kernel/ipc.h>
#include <kernel/mm.h>
#include <multios/errno.h>
#include <syscall_dispatch.h>

struct shm {
    struct kobj obj;
    size_t pages;
    uint64_t frames[];
};

struct shm_mapping {
    struct list_head link; // mappings
    struct process *proc;
    uint64_t va;
    size_t len;
    struct shm *shm;
};

static struct list_head mappings = LIST_INIT(mappings);

static void shm_release(struct kobj *o) {
    struct shm *s = (struct shm *)o;
    for (size_t i = 0; i < s->pages; i++)
        pmm_free(s->frames[i]);
    kfree(s);
}

long ksys_shm_create(size_t len) {
    struct process *cur = proc_current();
    if (!cur)
        return -MOS_EPERM;
    if (len == 0)
        return -MOS_EINVAL;
    size_t pages = len / PAGE_SIZE + (len % PAGE_SIZE != 0);
    if (pages > pmm_free_frames())
        return -MOS_ENOMEM;
    struct shm *s = kzalloc(sizeof *s + pages * sizeof(uint64_t));
    if (!s)
        return -MOS_ENOMEM;
    for (; s->pages < pages; s->pages++) {
        s->frames[s->pages] = pmm_alloc();
        if (!s->frames[s->pages]) {
            shm_release(&s->obj);
            return -MOS_ENOMEM;
        }
    }
    kobj_init(&s->obj, KOBJ_SHM, shm_release);
    long h = handle_install(cur, &s->obj);
    kobj_put(&s->obj);
    return h;
}

long ksys_shm_map(int h, int prot) {
    if (prot & ~(MOS_PROT_READ | MOS_PROT_WRITE | MOS_PROT_EXEC))
        return -MOS_EINVAL;
    if ((prot & MOS_PROT_WRITE) && (prot & MOS_PROT_EXEC))
        return -MOS_EINVAL; // user memory is never writable and executable at once
    struct process *cur = proc_current();
    struct shm *s = (struct shm *)ipc_get(h, KOBJ_SHM);
    if (!s)
        return -MOS_EBADF;
    // The reference from ipc_get becomes the mapping's.
    struct shm_mapping *m = kmalloc(sizeof *m);
    size_t len = s->pages * PAGE_SIZE;
    uint64_t va = m ? vm_find_free(cur->vm, len) : 0;
    if (!va) {
        kfree(m);
        kobj_put(&s->obj);
        return -MOS_ENOMEM;
    }
    // Pages are always readable: x86 has no way to map a page without read access.
    unsigned flags = VM_USER | VM_READ;
    if (prot & MOS_PROT_WRITE)
        flags |= VM_WRITE;
    if (prot & MOS_PROT_EXEC)
        flags |= VM_EXEC;
    long r = vm_map_shared(cur->vm, va, s->frames, s->pages, flags);
    if (r < 0) {
        kfree(m);
        kobj_put(&s->obj);
        return r;
    }
    m->proc = cur;
    m->va = va;
    m->len = len;
    m->shm = s;
    unsigned long f = irq_save();
    list_add_tail(&m->link, &mappings);
    irq_restore(f);
    return (long)va;
}

// Forget P's mappings: all of them, or those inside [va, va+len). The references are dropped
// with interrupts on: the last one frees frames.
static void drop_mappings(struct process *p, uint64_t va, size_t len, bool all) {
    struct list_head gone = LIST_INIT(gone);
    unsigned long f = irq_save();
    list_for_each_safe(pos, tmp, &mappings) {
        struct shm_mapping *m = list_entry(pos, struct shm_mapping, link);
        if (m->proc == p && (all || (m->va >= va && m->va + m->len <= va + len))) {
            list_del(&m->link);
            list_add_tail(&m->link, &gone);
        }
    }
    irq_restore(f);
    struct list_head *n;
    while ((n = list_pop(&gone))) {
        struct shm_mapping *m = list_entry(n, struct shm_mapping, link);
        kobj_put(&m->shm->obj);
        kfree(m);
    }
}

void ipc_vm_unmapped(struct process *p, uint64_t va, size_t len) { drop_mappings(p, va, len, false); }

// The dying space still maps the frames until vm_destroy, which never frees frames it does not
// own, and nothing runs in it any more.
void shm_process_exit(struct process *p) { drop_mappings(p, 0, 0, true); }
