/*
 * err.c - names for error codes, verdicts and reasons, expanded from the
 * tables in engine/include/corsd/ so that code, CLI, stats and docs share one
 * word.
 *
 * Layer: engine.
 */
#include <stdio.h>

#include "corsd_engine.h"

static const char *const err_msgs[] = {
#define CORSD_ERR(name, value, msg) [value] = msg,
#include "corsd/tbl_errors.h"
#undef CORSD_ERR
};

const char *
corsd_strerror(int err)
{
	/* Negated in unsigned arithmetic: -INT_MIN would overflow. */
	unsigned e = err < 0 ? 0u - (unsigned)err : (unsigned)err;

	if (e >= sizeof(err_msgs) / sizeof(err_msgs[0]) || !err_msgs[e])
		return "unknown error";
	return err_msgs[e];
}

static const char *const verdict_names[CORSD_VERDICT__COUNT] = {
#define CORSD_VERDICT(name, value, stat) [value] = stat,
#include "corsd/tbl_verdicts.h"
#undef CORSD_VERDICT
};

const char *
corsd_verdict_name(unsigned verdict)
{
	return verdict < CORSD_VERDICT__COUNT ? verdict_names[verdict] : "?";
}

static const char *const reason_names[] = {
#define CORSD_REASON(name, stat, fmt) [CORSD_REASON_##name] = stat,
#include "corsd/tbl_reasons.h"
#undef CORSD_REASON
};

static const char *const reason_fmts[] = {
#define CORSD_REASON(name, stat, fmt) [CORSD_REASON_##name] = fmt,
#include "corsd/tbl_reasons.h"
#undef CORSD_REASON
};

const char *
corsd_reason_name(unsigned reason)
{
	return reason < CORSD_REASON__COUNT ? reason_names[reason] : "?";
}

int
corsd_answer_reason(const struct corsd_answer *ans, char *buf, size_t size)
{
	unsigned r = ans->reason;
	int len = ans->subject_len <= CORSD_ANSWER_SUBJECT_MAX
			  ? (int)ans->subject_len
			  : CORSD_ANSWER_SUBJECT_MAX;

	if (r >= CORSD_REASON__COUNT)
		return snprintf(buf, size, "unknown reason %u", r);
		/* The formats are ours and take at most one %s: the subject. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	char subject[CORSD_ANSWER_SUBJECT_MAX + 1];

	snprintf(subject, sizeof(subject), "%.*s", len, ans->subject);
	return snprintf(buf, size, reason_fmts[r], subject);
#pragma GCC diagnostic pop
}
