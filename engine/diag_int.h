/*
 * diag_int.h - adding to a diagnostics list, and the words messages are
 * made of: a quoted subject, a did-you-mean suggestion.
 *
 * Layer: engine, internal.  Loaders collect every problem and go on past
 * the first; a failed allocation here drops the diagnostic but still
 * counts it, so a load never reports success after an error.  Every
 * subject an engine message shows comes from corsd_quote(), so every
 * message reads the same way and is printable ASCII whatever the input.
 */
#ifndef CORSD_DIAG_INT_H
#define CORSD_DIAG_INT_H

#include <stddef.h>

#include "corsd_engine.h"

/* Append one diagnostic; @fmt is printf-style, lower case, subject quoted. */
void corsd_diag_add(struct corsd_diags *d, enum corsd_severity sev,
		    enum corsd_rule rule, uint32_t line, uint32_t column,
		    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Set the file name diagnostics print (copied). */
int corsd_diags_set_file(struct corsd_diags *d, const char *file);

/*
 * The one rule for quoting a subject (bytes from a policy file, a path) in
 * a message; the caller writes the quotes around it:
 * - printable ASCII, 0x20 to 0x7e, is copied as it is, except the
 *   backslash, which is doubled (so the quoted form reads back
 *   unambiguously, and a regex reads as it is written in YAML's quotes);
 * - every other byte (controls, DEL, 0x80 to 0xff) is written \xHH, in
 *   lower-case hex: a message never drives a terminal and is ASCII
 *   whatever the file holds (its UTF-8 included);
 * - at most CORSD_QUOTE_SHOWN bytes are written; a longer subject is cut
 *   before the first byte whose form would cross that bound (never inside
 *   an escape) and "..." follows.  So two subjects and what is wrong fit
 *   in one CORSD_DIAG_MESSAGE_MAX message.
 */
#define CORSD_QUOTE_SHOWN 72

struct corsd_quoted {
	char s[CORSD_QUOTE_SHOWN + sizeof("...")];
};

/* @p may be NULL when @len is 0. */
struct corsd_quoted corsd_quote(const char *p, size_t len);

/*
 * corsd_did_you_mean() - the one of @known a mistyped @key most likely
 * meant, or NULL.  Optimal string alignment distance, ASCII case folded,
 * below 3 and at most a third of @key's length (a short key is near
 * everything); keys and known words longer than 32 bytes match nothing.
 * The first of equally near words wins.
 */
const char *corsd_did_you_mean(const char *key, size_t len,
			       const char *const *known, size_t n);

#endif /* CORSD_DIAG_INT_H */
