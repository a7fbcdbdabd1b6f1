/*
 * testutil.h - helpers shared by the unit tests.
 *
 * Layer: tests.  guard_copy() places bytes so that they end exactly at a
 * PROT_NONE page: a parser that reads one byte past its input faults.
 */
#ifndef CORSD_TESTUTIL_H
#define CORSD_TESTUTIL_H

#include <stddef.h>

#include "corsd_engine.h"

/* Copy @len bytes to the end of a page followed by a guard page. */
struct corsd_str guard_copy(const char *p, size_t len);
/* As guard_copy(), of a NUL-terminated literal (the NUL is not copied). */
struct corsd_str guard_str(const char *s);
/* Release every guard mapping made so far. */
void guard_release_all(void);

/* A corsd_str of a literal; NULL gives an absent string. */
struct corsd_str S(const char *s);

#endif
