// The objects behind the standard handles (the consoles) and behind open files of the
// initrd, and their system calls.
#include <hal/hal.h>
#include <kernel/console.h>
#include <kernel/init.h>
#include <kernel/initrd.h>
#include <kernel/klog.h>
#include <kernel/list.h>
#include <kernel/mm.h>
#include <kernel/proc.h>
#include <kernel/string.h>
#include <multios/errno.h>
#include <multios/syscalls.h>
#include <syscall_dispatch.h>

struct console {
    struct kobj obj;
    enum hal_serial_port port;
    int stream; // 0, or 1 / 2: stdout / stderr of a service, copied to the service manager
};

struct file {
    struct kobj obj;
    const struct initrd_file *f;
    uint64_t offset;
};

// Statically allocated: every process shares them, and they are never released.
static struct console consoles[2] = {{{KOBJ_CONSOLE, 1, NULL}, HAL_COM1, 0}, {{KOBJ_CONSOLE, 1, NULL}, HAL_COM2, 0}};
// A service's stdout and stderr: still the console, and a copy for its journal.
static struct console journaled[2] = {{{KOBJ_CONSOLE, 1, NULL}, HAL_COM1, 1}, {{KOBJ_CONSOLE, 1, NULL}, HAL_COM1, 2}};

void files_install_std(struct process *p, bool journal) {
    handle_install(p, &consoles[0].obj);                               // MOS_STDIN
    handle_install(p, journal ? &journaled[0].obj : &consoles[0].obj); // MOS_STDOUT
    handle_install(p, journal ? &journaled[1].obj : &consoles[0].obj); // MOS_STDERR
    handle_install(p, &consoles[1].obj);                               // MOS_COM2
}

// Each write reaches its console whole: writers of a port take turns, so a service's line
// cannot land inside another program's (e.g. svc --json output read by a person or a test).
static struct {
    struct wait_queue wq;
    bool busy;
} turn[2] = {{{LIST_INIT(turn[0].wq.waiters)}, false}, {{LIST_INIT(turn[1].wq.waiters)}, false}};

static long console_take(enum hal_serial_port port) {
    unsigned long f = irq_save();
    while (turn[port].busy) {
        if (wq_wait(&turn[port].wq, WAIT_FOREVER) == -MOS_EINTR) {
            irq_restore(f);
            return -MOS_EINTR;
        }
    }
    turn[port].busy = true;
    irq_restore(f);
    return 0;
}

static void console_give(enum hal_serial_port port) {
    unsigned long f = irq_save();
    turn[port].busy = false;
    wq_wake_one(&turn[port].wq, 0);
    irq_restore(f);
}

static long write_console(struct console *c, const char *buf, size_t len);

long ksys_write(int handle, const void *buf, size_t len) {
    struct console *c = (struct console *)handle_lookup(proc_current(), handle, KOBJ_CONSOLE);
    if (!c)
        return -MOS_EBADF;
    if (!user_range_ok((uint64_t)buf, len))
        return -MOS_EFAULT;
    long r = console_take(c->port);
    if (r < 0)
        return r;
    r = write_console(c, buf, len);
    console_give(c->port);
    return r;
}

static long write_console(struct console *c, const char *buf, size_t len) {
    char chunk[256];
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        if (copy_from_user(chunk, buf + done, n) < 0)
            return done ? (long)done : -MOS_EFAULT;
        if (c->port == HAL_COM1)
            klog_write(chunk, n);
        else
            hal_serial_write(HAL_COM2, chunk, n);
        if (c->stream)
            service_output(proc_current()->pid, c->stream, chunk, n);
        done += n;
    }
    return (long)done;
}

long ksys_read(int handle, void *buf, size_t len) {
    struct console *c = (struct console *)handle_lookup(proc_current(), handle, KOBJ_CONSOLE);
    if (!c)
        return -MOS_EBADF;
    if (!user_range_ok((uint64_t)buf, len))
        return -MOS_EFAULT;
    if (len == 0)
        return 0;
    // Blocks until at least one byte, then takes what is waiting.
    char chunk[256];
    size_t n = 0;
    for (;;) {
        int ch;
        while (n < len && n < sizeof chunk && (ch = console_getc(c->port)) >= 0)
            chunk[n++] = (char)ch;
        if (n)
            break;
        long r = console_wait(c->port);
        if (r < 0)
            return r;
    }
    if (copy_to_user(buf, chunk, n) < 0)
        return -MOS_EFAULT;
    return (long)n;
}

static void file_release(struct kobj *o) { kfree(o); }

long ksys_open(const char *path, int flags) {
    char kpath[MOS_PATH_MAX];
    long r = strncpy_from_user(kpath, path, sizeof kpath);
    if (r < 0)
        return r;
    if (flags != MOS_O_RDONLY)
        return -MOS_EINVAL;
    const struct initrd_file *f;
    if ((r = initrd_resolve(kpath, &f)) < 0)
        return r;
    if (initrd_is_dir(f))
        return -MOS_EISDIR;
    struct file *file = kzalloc(sizeof *file);
    if (!file)
        return -MOS_ENOMEM;
    kobj_init(&file->obj, KOBJ_FILE, file_release);
    file->f = f;
    int h = handle_install(proc_current(), &file->obj);
    kobj_put(&file->obj); // the handle holds it now
    return h;
}

long ksys_fread(int h, void *buf, size_t len) {
    struct file *file = (struct file *)handle_lookup(proc_current(), h, KOBJ_FILE);
    if (!file)
        return -MOS_EBADF;
    if (!user_range_ok((uint64_t)buf, len))
        return -MOS_EFAULT;
    uint64_t left = file->f->size - file->offset;
    size_t n = len < left ? len : (size_t)left;
    if (n && copy_to_user(buf, file->f->data + file->offset, n) < 0)
        return -MOS_EFAULT;
    file->offset += n;
    return (long)n;
}

long ksys_close(int h) {
    // close is for files; other objects go with handle_close.
    if (!handle_lookup(proc_current(), h, KOBJ_FILE))
        return -MOS_EBADF;
    return handle_close(proc_current(), h);
}

long ksys_stat(const char *path, struct mos_stat *st) {
    char kpath[MOS_PATH_MAX];
    long r = strncpy_from_user(kpath, path, sizeof kpath);
    if (r < 0)
        return r;
    const struct initrd_file *f;
    if ((r = initrd_resolve(kpath, &f)) < 0)
        return r;
    struct mos_stat s = {f->size, f->mtime, initrd_is_dir(f) ? MOS_FT_DIR : MOS_FT_FILE, f->mode & 07777};
    return copy_to_user(st, &s, sizeof s) < 0 ? -MOS_EFAULT : 0;
}

long ksys_readdir(const char *path, long index, struct mos_dirent *out) {
    char kpath[MOS_PATH_MAX];
    long r = strncpy_from_user(kpath, path, sizeof kpath);
    if (r < 0)
        return r;
    const struct initrd_file *dir;
    if ((r = initrd_resolve(kpath, &dir)) < 0)
        return r;
    if (!initrd_is_dir(dir))
        return -MOS_ENOTDIR;
    if (index < 0)
        return -MOS_EINVAL;
    const struct initrd_file *f = initrd_readdir(kpath, index);
    if (!f)
        return 0;
    struct mos_dirent d;
    memset(&d, 0, sizeof d);
    const char *base = f->name + f->name_len;
    while (base > f->name && base[-1] != '/')
        base--;
    size_t n = (size_t)(f->name + f->name_len - base);
    if (n >= sizeof d.name)
        n = sizeof d.name - 1;
    memcpy(d.name, base, n);
    d.name_len = (uint32_t)n;
    d.size = f->size;
    d.type = initrd_is_dir(f) ? MOS_FT_DIR : MOS_FT_FILE;
    return copy_to_user(out, &d, sizeof d) < 0 ? -MOS_EFAULT : 1;
}
