#include <kernel/kobj.h>
#include <kernel/klog.h>
#include <kernel/proc.h>
#include <multios/errno.h>

void kobj_init(struct kobj *o, enum kobj_type type, void (*release)(struct kobj *)) {
    o->type = type;
    o->refs = 1;
    o->release = release;
}

void kobj_get(struct kobj *o) {
    unsigned long f = irq_save();
    o->refs++;
    irq_restore(f);
}

void kobj_put(struct kobj *o) {
    unsigned long f = irq_save();
    int left = --o->refs;
    irq_restore(f);
    if (left == 0 && o->release)
        o->release(o);
    else if (left < 0)
        panic("kobj %p (type %d) released twice", (void *)o, o->type);
}

int handle_install(struct process *p, struct kobj *o) {
    unsigned long f = irq_save();
    for (int h = 0; h < HANDLES_MAX; h++) {
        if (!p->handles[h]) {
            p->handles[h] = o;
            o->refs++;
            irq_restore(f);
            return h;
        }
    }
    irq_restore(f);
    return -MOS_EMFILE;
}

struct kobj *handle_lookup(struct process *p, int h, enum kobj_type type) {
    if (!p || h < 0 || h >= HANDLES_MAX)
        return NULL;
    struct kobj *o = p->handles[h];
    if (!o || (type != KOBJ_NONE && o->type != type))
        return NULL;
    return o;
}

int handle_close(struct process *p, int h) {
    if (!p || h < 0 || h >= HANDLES_MAX)
        return -MOS_EBADF;
    unsigned long f = irq_save();
    struct kobj *o = p->handles[h];
    p->handles[h] = NULL;
    irq_restore(f);
    if (!o)
        return -MOS_EBADF;
    kobj_put(o);
    return 0;
}
