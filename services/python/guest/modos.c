// The os module over the read-only initrd (no VFS): listdir, ilistdir, stat,
// getcwd, sep, getenv, uname, urandom is left out (no entropy source yet).

#include <mos.h>
#include <stdlib.h>
#include <string.h>

#include "py/objstr.h"
#include "py/objtuple.h"
#include "py/runtime.h"
#include "genhdr/mpversion.h"
#include "guest/port.h"

#define S_IFDIR 0x4000
#define S_IFREG 0x8000

static const char *path_arg(size_t n_args, const mp_obj_t *args, char *buf, size_t size) {
    const char *path = n_args > 0 ? mp_obj_str_get_str(args[0]) : "/";
    if (*path == '\0' || strcmp(path, ".") == 0) {
        path = "/";
    }
    return mp_port_abspath(path, buf, size);
}

static mp_obj_t check(long r) {
    if (r < 0) {
        mp_raise_OSError((int)-r);
    }
    return mp_const_none;
}

// os.ilistdir([path]): (name, type, inode, size) per entry, as in the VFS.
typedef struct {
    mp_obj_base_t base;
    mp_fun_1_t iternext;
    mp_obj_t path;
    long index;
} ilistdir_obj_t;

static mp_obj_t ilistdir_next(mp_obj_t self_in) {
    ilistdir_obj_t *self = MP_OBJ_TO_PTR(self_in);
    struct mos_dirent d;
    long r = mos_readdir(mp_obj_str_get_str(self->path), self->index, &d);
    check(r);
    if (r == 0) {
        return MP_OBJ_STOP_ITERATION;
    }
    self->index++;
    mp_obj_t t[4] = {
        mp_obj_new_str(d.name, d.name_len),
        MP_OBJ_NEW_SMALL_INT(d.type == MOS_FT_DIR ? S_IFDIR : S_IFREG),
        MP_OBJ_NEW_SMALL_INT(0),
        mp_obj_new_int_from_ull(d.size),
    };
    return mp_obj_new_tuple(4, t);
}

static mp_obj_t os_ilistdir(size_t n_args, const mp_obj_t *args) {
    char buf[MOS_PATH_MAX];
    const char *path = path_arg(n_args, args, buf, sizeof buf);
    struct mos_dirent d;
    check(mos_readdir(path, 0, &d)); // ENOENT, ENOTDIR now rather than at the first next()
    ilistdir_obj_t *it = mp_obj_malloc(ilistdir_obj_t, &mp_type_polymorph_iter);
    it->iternext = ilistdir_next;
    it->path = mp_obj_new_str_from_cstr(path);
    it->index = 0;
    return MP_OBJ_FROM_PTR(it);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(os_ilistdir_obj, 0, 1, os_ilistdir);

static mp_obj_t os_listdir(size_t n_args, const mp_obj_t *args) {
    mp_obj_t it = os_ilistdir(n_args, args);
    mp_obj_t list = mp_obj_new_list(0, NULL);
    mp_obj_t entry;
    while ((entry = ilistdir_next(it)) != MP_OBJ_STOP_ITERATION) {
        mp_obj_list_append(list, ((mp_obj_tuple_t *)MP_OBJ_TO_PTR(entry))->items[0]);
    }
    return list;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(os_listdir_obj, 0, 1, os_listdir);

// os.stat(path): the 10-tuple of CPython's os.stat_result.
static mp_obj_t os_stat(mp_obj_t path_in) {
    char buf[MOS_PATH_MAX];
    const char *path = path_arg(1, &path_in, buf, sizeof buf);
    struct mos_stat st;
    check(mos_stat(path, &st));
    mp_obj_t mtime = mp_obj_new_int_from_ull(st.mtime);
    mp_obj_t t[10] = {
        MP_OBJ_NEW_SMALL_INT((st.type == MOS_FT_DIR ? S_IFDIR : S_IFREG) | st.mode),
        MP_OBJ_NEW_SMALL_INT(0), MP_OBJ_NEW_SMALL_INT(0), MP_OBJ_NEW_SMALL_INT(1),
        MP_OBJ_NEW_SMALL_INT(0), MP_OBJ_NEW_SMALL_INT(0),
        mp_obj_new_int_from_ull(st.size), mtime, mtime, mtime,
    };
    return mp_obj_new_tuple(10, t);
}
static MP_DEFINE_CONST_FUN_OBJ_1(os_stat_obj, os_stat);

static mp_obj_t os_getcwd(void) {
    return MP_OBJ_NEW_QSTR(MP_QSTR__slash_);
}
static MP_DEFINE_CONST_FUN_OBJ_0(os_getcwd_obj, os_getcwd);

static mp_obj_t os_getenv(size_t n_args, const mp_obj_t *args) {
    const char *v = getenv(mp_obj_str_get_str(args[0]));
    if (v == NULL) {
        return n_args > 1 ? args[1] : mp_const_none;
    }
    return mp_obj_new_str_from_cstr(v);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(os_getenv_obj, 1, 2, os_getenv);

static const MP_DEFINE_STR_OBJ(os_uname_sysname_obj, "MultiOS");
static const MP_DEFINE_STR_OBJ(os_uname_nodename_obj, "multios");
static const MP_DEFINE_STR_OBJ(os_uname_release_obj, MICROPY_VERSION_STRING);
static const MP_DEFINE_STR_OBJ(os_uname_version_obj, MICROPY_GIT_TAG " on " MICROPY_BUILD_DATE);
static const MP_DEFINE_STR_OBJ(os_uname_machine_obj, "x86_64");

static const qstr os_uname_fields[] = {
    MP_QSTR_sysname, MP_QSTR_nodename, MP_QSTR_release, MP_QSTR_version, MP_QSTR_machine,
};
static MP_DEFINE_ATTRTUPLE(
    os_uname_obj_tuple, os_uname_fields, 5,
    MP_ROM_PTR(&os_uname_sysname_obj),
    MP_ROM_PTR(&os_uname_nodename_obj),
    MP_ROM_PTR(&os_uname_release_obj),
    MP_ROM_PTR(&os_uname_version_obj),
    MP_ROM_PTR(&os_uname_machine_obj)
    );

static mp_obj_t os_uname(void) {
    return MP_OBJ_FROM_PTR(&os_uname_obj_tuple);
}
static MP_DEFINE_CONST_FUN_OBJ_0(os_uname_obj, os_uname);

static const mp_rom_map_elem_t os_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_os) },
    { MP_ROM_QSTR(MP_QSTR_sep), MP_ROM_QSTR(MP_QSTR__slash_) },
    { MP_ROM_QSTR(MP_QSTR_getcwd), MP_ROM_PTR(&os_getcwd_obj) },
    { MP_ROM_QSTR(MP_QSTR_listdir), MP_ROM_PTR(&os_listdir_obj) },
    { MP_ROM_QSTR(MP_QSTR_ilistdir), MP_ROM_PTR(&os_ilistdir_obj) },
    { MP_ROM_QSTR(MP_QSTR_stat), MP_ROM_PTR(&os_stat_obj) },
    { MP_ROM_QSTR(MP_QSTR_getenv), MP_ROM_PTR(&os_getenv_obj) },
    { MP_ROM_QSTR(MP_QSTR_uname), MP_ROM_PTR(&os_uname_obj) },
};
static MP_DEFINE_CONST_DICT(os_module_globals, os_module_globals_table);

const mp_obj_module_t mp_module_os = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&os_module_globals,
};

MP_REGISTER_EXTENSIBLE_MODULE(MP_QSTR_os, mp_module_os);
