// assert(): on failure prints the expression and where, then abort()s. NDEBUG turns it off.
// (No #pragma once: the standard lets <assert.h> be included again with NDEBUG changed.)
#undef assert
#ifdef NDEBUG
#define assert(e) ((void)0)
#else
_Noreturn void __libmos_assert_fail(const char *expr, const char *file, int line, const char *func);
#define assert(e) ((e) ? (void)0 : __libmos_assert_fail(#e, __FILE__, __LINE__, __func__))
#endif
#ifndef __cplusplus
#define static_assert _Static_assert
#endif
