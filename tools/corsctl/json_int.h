/*
 * json_int.h - the JSON that corsctl writes: strings, answers, errors.
 *
 * Layer: tools/corsctl, internal.  Output is valid JSON for any input
 * bytes: control bytes are written as \u00XX (or their short escapes),
 * valid UTF-8 passes through unchanged, and every byte that is not part
 * of a valid UTF-8 sequence is replaced by U+FFFD, written "\ufffd".
 */
#ifndef CORSCTL_JSON_INT_H
#define CORSCTL_JSON_INT_H

#include <stddef.h>
#include <stdio.h>

#include "corsd_engine.h"

/* Write @len bytes of @p as one JSON string, quotes included. */
void corsctl_json_str(FILE *f, const char *p, size_t len);

/*
 * Write @ans as one line:
 * {"verdict":...,"status":N,"headers":[[name,value],...],
 *  "max_age":N|null,"reason":...}
 */
void corsctl_json_answer(FILE *f, const struct corsd_answer *ans);

/* Write {"error":"line N: MSG"} as one line. */
void corsctl_json_error(FILE *f, unsigned long line, const char *msg);

/*
 * Write @len bytes of @p for a terminal: printable ASCII as it is (a
 * backslash doubled), any other byte as \xHH, so that nothing from a
 * request can steer the terminal and the text reads back unambiguously.
 */
void corsctl_text_str(FILE *f, const char *p, size_t len);

#endif /* CORSCTL_JSON_INT_H */
