/*
 * corsd_err.h - corsd's one error space.
 *
 * Layer: engine, public.  Functions return 0 or -CORSD_E<NAME>;
 * constructors return NULL and put the code in an out-parameter.
 */
#ifndef CORSD_ERR_H
#define CORSD_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the public API: everything else in the libraries is hidden. */
#if defined(__GNUC__) && !defined(CORSD_API)
#define CORSD_API __attribute__((visibility("default")))
#elif !defined(CORSD_API)
#define CORSD_API
#endif

enum corsd_err {
#define CORSD_ERR(name, value, msg) CORSD_E##name = (value),
#include "corsd/tbl_errors.h"
#undef CORSD_ERR
};

/**
 * corsd_strerror() - describe an error code.
 * @err: a code, negative (as returned) or positive.
 *
 * Return: a static string; "unknown error" for a code not in the table.
 * Thread-safe.
 */
CORSD_API const char *corsd_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* CORSD_ERR_H */
