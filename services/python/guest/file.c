// open(): files of the read-only initrd as MicroPython streams, FileIO for
// "rb" and TextIOWrapper for "r", read through a small buffer so that
// readline() and iteration do not make a system call per byte.

#include <mos.h>
#include <string.h>

#include "py/builtin.h"
#include "py/mperrno.h"
#include "py/runtime.h"
#include "py/stream.h"
#include "guest/port.h"

typedef struct {
    mp_obj_base_t base;
    int handle; // -1 once closed
    mp_obj_t path;
    uint64_t offset; // of the next byte read()
    size_t pos, len; // unread bytes: buf[pos..len)
    uint8_t buf[512];
} file_obj_t;

static const mp_obj_type_t file_fileio_type;
static const mp_obj_type_t file_textio_type;

static void file_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    file_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_printf(print, "<io.%s %d>", mp_obj_get_type_str(self_in), self->handle);
}

static long file_check(file_obj_t *self, int *errcode) {
    if (self->handle < 0) {
        *errcode = MP_EBADF;
        return -1;
    }
    return 0;
}

static mp_uint_t file_read(mp_obj_t self_in, void *buf, mp_uint_t size, int *errcode) {
    file_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (file_check(self, errcode) < 0) {
        return MP_STREAM_ERROR;
    }
    if (self->pos == self->len && size < sizeof self->buf) {
        long n = mos_fread(self->handle, self->buf, sizeof self->buf);
        if (n < 0) {
            *errcode = (int)-n;
            return MP_STREAM_ERROR;
        }
        self->pos = 0;
        self->len = (size_t)n;
    }
    if (self->pos < self->len) {
        size_t n = self->len - self->pos < size ? self->len - self->pos : size;
        memcpy(buf, self->buf + self->pos, n);
        self->pos += n;
        self->offset += n;
        return n;
    }
    // Large reads go straight to the caller's buffer.
    long n = mos_fread(self->handle, buf, size);
    if (n < 0) {
        *errcode = (int)-n;
        return MP_STREAM_ERROR;
    }
    self->offset += (uint64_t)n;
    return (mp_uint_t)n;
}

static mp_uint_t file_write(mp_obj_t self_in, const void *buf, mp_uint_t size, int *errcode) {
    (void)self_in;
    (void)buf;
    (void)size;
    *errcode = MP_EROFS;
    return MP_STREAM_ERROR;
}

// Seeks by reading from the start again: the kernel keeps no other position.
static int file_seek(file_obj_t *self, uint64_t to) {
    if (to < self->offset) {
        long h = mos_open(mp_obj_str_get_str(self->path), MOS_O_RDONLY);
        if (h < 0) {
            return (int)-h;
        }
        mos_close(self->handle);
        self->handle = (int)h;
        self->offset = 0;
        self->pos = self->len = 0;
    }
    while (self->offset < to) {
        uint8_t skip[256];
        int err;
        uint64_t want = to - self->offset;
        mp_uint_t n = file_read(MP_OBJ_FROM_PTR(self), skip, want < sizeof skip ? want : sizeof skip, &err);
        if (n == MP_STREAM_ERROR) {
            return err;
        }
        if (n == 0) {
            break;
        }
    }
    return 0;
}

static mp_uint_t file_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg, int *errcode) {
    file_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (request == MP_STREAM_CLOSE) {
        if (self->handle >= 0) {
            mos_close(self->handle);
            self->handle = -1;
        }
        return 0;
    }
    if (file_check(self, errcode) < 0) {
        return MP_STREAM_ERROR;
    }
    switch (request) {
        case MP_STREAM_FLUSH:
            return 0;
        case MP_STREAM_POLL:
            return arg & MP_STREAM_POLL_RD;
        case MP_STREAM_SEEK: {
            struct mp_stream_seek_t *s = (struct mp_stream_seek_t *)arg;
            mp_int_t base = 0;
            if (s->whence == MP_SEEK_CUR) {
                base = (mp_int_t)self->offset;
            } else if (s->whence == MP_SEEK_END) {
                struct mos_stat st;
                long r = mos_stat(mp_obj_str_get_str(self->path), &st);
                if (r < 0) {
                    *errcode = (int)-r;
                    return MP_STREAM_ERROR;
                }
                base = (mp_int_t)st.size;
            }
            mp_int_t to = base + s->offset;
            if (to < 0) {
                *errcode = MP_EINVAL;
                return MP_STREAM_ERROR;
            }
            int err = file_seek(self, (uint64_t)to);
            if (err) {
                *errcode = err;
                return MP_STREAM_ERROR;
            }
            s->offset = (mp_off_t)self->offset;
            return 0;
        }
        default:
            *errcode = MP_EINVAL;
            return MP_STREAM_ERROR;
    }
}

static mp_obj_t file_fileno(mp_obj_t self_in) {
    file_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return MP_OBJ_NEW_SMALL_INT(self->handle);
}
static MP_DEFINE_CONST_FUN_OBJ_1(file_fileno_obj, file_fileno);

static const mp_rom_map_elem_t file_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_fileno), MP_ROM_PTR(&file_fileno_obj) },
    { MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&mp_stream_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_readinto), MP_ROM_PTR(&mp_stream_readinto_obj) },
    { MP_ROM_QSTR(MP_QSTR_readline), MP_ROM_PTR(&mp_stream_unbuffered_readline_obj) },
    { MP_ROM_QSTR(MP_QSTR_readlines), MP_ROM_PTR(&mp_stream_unbuffered_readlines_obj) },
    { MP_ROM_QSTR(MP_QSTR_write), MP_ROM_PTR(&mp_stream_write_obj) },
    { MP_ROM_QSTR(MP_QSTR_seek), MP_ROM_PTR(&mp_stream_seek_obj) },
    { MP_ROM_QSTR(MP_QSTR_tell), MP_ROM_PTR(&mp_stream_tell_obj) },
    { MP_ROM_QSTR(MP_QSTR_flush), MP_ROM_PTR(&mp_stream_flush_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&mp_stream_close_obj) },
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&mp_stream_close_obj) },
    { MP_ROM_QSTR(MP_QSTR___enter__), MP_ROM_PTR(&mp_identity_obj) },
    { MP_ROM_QSTR(MP_QSTR___exit__), MP_ROM_PTR(&mp_stream___exit___obj) },
};
static MP_DEFINE_CONST_DICT(file_locals_dict, file_locals_dict_table);

static const mp_stream_p_t file_fileio_stream_p = {
    .read = file_read,
    .write = file_write,
    .ioctl = file_ioctl,
};

static MP_DEFINE_CONST_OBJ_TYPE(
    file_fileio_type,
    MP_QSTR_FileIO,
    MP_TYPE_FLAG_ITER_IS_STREAM,
    print, file_print,
    protocol, &file_fileio_stream_p,
    locals_dict, &file_locals_dict
    );

static const mp_stream_p_t file_textio_stream_p = {
    .read = file_read,
    .write = file_write,
    .ioctl = file_ioctl,
    .is_text = true,
};

static MP_DEFINE_CONST_OBJ_TYPE(
    file_textio_type,
    MP_QSTR_TextIOWrapper,
    MP_TYPE_FLAG_ITER_IS_STREAM,
    print, file_print,
    protocol, &file_textio_stream_p,
    locals_dict, &file_locals_dict
    );

// open(file, mode="r", ...): reading only; the initrd is read-only.
mp_obj_t mp_builtin_open(size_t n_args, const mp_obj_t *args, mp_map_t *kwargs) {
    enum { ARG_file, ARG_mode, ARG_buffering, ARG_encoding };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_file, MP_ARG_OBJ | MP_ARG_REQUIRED, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_mode, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_QSTR(MP_QSTR_r)} },
        { MP_QSTR_buffering, MP_ARG_INT, {.u_int = -1} },
        { MP_QSTR_encoding, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t vals[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args, args, kwargs, MP_ARRAY_SIZE(allowed), allowed, vals);

    const char *mode = mp_obj_str_get_str(vals[ARG_mode].u_obj);
    const mp_obj_type_t *type = &file_textio_type;
    for (const char *m = mode; *m; m++) {
        switch (*m) {
            case 'r':
            case 't':
                break;
            case 'b':
                type = &file_fileio_type;
                break;
            case 'w':
            case 'a':
            case 'x':
            case '+':
                mp_raise_OSError(MP_EROFS);
            default:
                mp_raise_ValueError(MP_ERROR_TEXT("invalid mode"));
        }
    }
    char buf[MOS_PATH_MAX];
    const char *path = mp_port_abspath(mp_obj_str_get_str(vals[ARG_file].u_obj), buf, sizeof buf);
    long h = mos_open(path, MOS_O_RDONLY);
    if (h < 0) {
        mp_raise_OSError((int)-h);
    }
    file_obj_t *self = mp_obj_malloc_with_finaliser(file_obj_t, type);
    self->handle = (int)h;
    self->path = mp_obj_new_str_from_cstr(path);
    self->offset = 0;
    self->pos = self->len = 0;
    return MP_OBJ_FROM_PTR(self);
}
MP_DEFINE_CONST_FUN_OBJ_KW(mp_builtin_open_obj, 1, mp_builtin_open);
