/*
 * answer_int.h - an answer written out: one JSON line, or lines of text.
 *
 * Layer: tools/corsctl, internal.  The JSON is jansson's (the rules both
 * programs share are in tools/common/json_int.h); the text is for
 * terminals: nothing from a request reaches one raw.
 */
#ifndef CORSCTL_ANSWER_INT_H
#define CORSCTL_ANSWER_INT_H

#include <stddef.h>
#include <stdio.h>

#include "corsd_engine.h"

/*
 * Write @ans as one line:
 * {"verdict":...,"status":N,"headers":[[name,value],...],
 *  "max_age":N|null,"reason":...}
 * Return: 0 or -CORSD_ENOMEM / -CORSD_EIO.
 */
int corsctl_answer_json(FILE *f, const struct corsd_answer *ans);

/* Write @ans as "verdict: ...", "status: ...", one line per header,
 * "max-age: ..." and "reason: ..." lines. */
void corsctl_answer_text(FILE *f, const struct corsd_answer *ans);

/*
 * Write @len bytes of @p for a terminal: printable ASCII as it is (a
 * backslash doubled), any other byte as \xHH, so that nothing from a
 * request can steer the terminal and the text reads back unambiguously.
 */
void corsctl_text_str(FILE *f, const char *p, size_t len);

#endif /* CORSCTL_ANSWER_INT_H */
