/*
 * batch_int.h - corsctl decide --batch: JSON lines in, JSON lines out.
 *
 * Layer: tools/corsctl, internal.  Streams: one line of input is held at
 * a time, never the whole file; a line longer than CORSCTL_LINE_MAX bytes
 * is skipped to its end (never stored) and answered with an error.
 */
#ifndef CORSCTL_BATCH_INT_H
#define CORSCTL_BATCH_INT_H

#include <stdbool.h>
#include <stdio.h>

#include "corsd_engine.h"

/* Bytes of one request line, its newline (and a CR before it) excluded:
 * 16 MiB, room for an ACRH thousands of names long (which decide() denies
 * as too long, but must read to answer). */
#define CORSCTL_LINE_MAX (16u << 20)

/* Decide one request: corsd_decide() in-process, or through corsd. */
typedef int (*corsctl_decide_fn)(void *ctx, const struct corsd_request *req,
				 struct corsd_answer *ans);

struct corsctl_batch {
	corsctl_decide_fn decide;
	void *ctx;
	/* The policy of lines that name none: -p, or the file's only
	 * policy; p == NULL when there is no such default. */
	struct corsd_str default_policy;
	/* "api, public" - quoted in the error for a line naming no policy
	 * when there is no default. */
	const char *policy_names;
	/* Flush after every answer, so that a program driving corsctl
	 * through pipes gets each answer before it writes the next line. */
	bool flush_each;
};

/**
 * corsctl_batch_run() - answer every request line of @in on @out.
 * @b: what the lines are decided against.
 * @in: JSON lines; blank lines are skipped.
 * @out: one answer, or one {"error":"line N: ..."}, per non-blank line,
 *       in input order.
 *
 * Return: the number of lines answered with an error, or -1 when @in
 * could not be read (errno is set) or memory ran out.
 */
long corsctl_batch_run(const struct corsctl_batch *b, FILE *in, FILE *out);

#endif /* CORSCTL_BATCH_INT_H */
