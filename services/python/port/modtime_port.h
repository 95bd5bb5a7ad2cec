// Included by extmod/modtime.c (MICROPY_PY_TIME_INCLUDEFILE): time.time(),
// a float like CPython's, from the HAL's wall clock.

static mp_obj_t mp_time_time_get(void) {
    return mp_obj_new_float((mp_float_t)mp_hal_time_ns() / 1e9);
}
