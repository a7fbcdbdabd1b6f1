/*
 * diag_int.h - adding to a diagnostics list.
 *
 * Layer: engine, internal.  Loaders collect every problem and go on past
 * the first; a failed allocation here drops the diagnostic but still
 * counts it, so a load never reports success after an error.
 */
#ifndef CORSD_DIAG_INT_H
#define CORSD_DIAG_INT_H

#include "corsd_engine.h"

/* Append one diagnostic; @fmt is printf-style, lower case, subject quoted. */
void corsd_diag_add(struct corsd_diags *d, enum corsd_severity sev,
		    enum corsd_rule rule, uint32_t line, uint32_t column,
		    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Set the file name diagnostics print (copied). */
int corsd_diags_set_file(struct corsd_diags *d, const char *file);

#endif /* CORSD_DIAG_INT_H */
