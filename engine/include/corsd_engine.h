/*
 * corsd_engine.h - the corsd engine: policy file -> compiled snapshot ->
 * decide().
 *
 * Layer: engine, public.  A plain C library: no threads, no shared memory,
 * no RCU.  Everything here is usable in-process (corsctl decide does so);
 * the daemon wraps it with RCU and shared memory.
 *
 * Life of a policy:
 *
 *	struct corsd_diags d;
 *	corsd_diags_init(&d);
 *	struct corsd_policy_set *set = corsd_policy_set_load_file(path, &d, &err);
 *	struct corsd_snapshot *snap = corsd_snapshot_compile(set, gen, &err);
 *	corsd_policy_set_free(set);
 *	... corsd_decide(snap, &req, &answer) from any number of threads ...
 *	corsd_snapshot_free(snap);
 *	corsd_diags_release(&d);
 *
 * Strings are (pointer, length) pairs: nothing here calls strlen() on input,
 * and input need not be NUL-terminated.
 */
#ifndef CORSD_ENGINE_H
#define CORSD_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "corsd_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A byte string that is not NUL-terminated.  p == NULL means "absent". */
struct corsd_str {
	const char *p;
	size_t len;
};

/* Bounds that keep every decision cheap; inputs past them are denied. */
#define CORSD_ORIGIN_MAX	320	/* bytes of a serialised origin */
#define CORSD_METHOD_MAX	64	/* bytes of a method token */
#define CORSD_ACRH_MAX		4096	/* bytes of Access-Control-Request-Headers */
#define CORSD_ACRH_NAMES_MAX	64	/* names in Access-Control-Request-Headers */
#define CORSD_POLICY_NAME_MAX	64	/* bytes of a policy name */
#define CORSD_LIST_RENDER_MAX	2048	/* bytes of a rendered configured list */

/* ---- diagnostics ------------------------------------------------------ */

enum corsd_severity {
	CORSD_SEV_WARNING = 1,
	CORSD_SEV_ERROR = 2,
};

enum corsd_rule {
#define CORSD_RULE(name, id, doc) CORSD_RULE_##name,
#include "../tbl/rules.h"
#undef CORSD_RULE
	CORSD_RULE__COUNT
};

#define CORSD_DIAG_MESSAGE_MAX 320

/* One problem found in a policy file, at file:line:column (1-based). */
struct corsd_diag {
	enum corsd_severity severity;
	enum corsd_rule rule;
	uint32_t line;
	uint32_t column;
	char message[CORSD_DIAG_MESSAGE_MAX];
};

/* Every problem of one load, in file order; owned by the caller. */
struct corsd_diags {
	char *file;		/* the name diagnostics print; owned */
	struct corsd_diag *v;
	size_t n;
	size_t cap;
	unsigned errors;
	unsigned warnings;
};

void corsd_diags_init(struct corsd_diags *d);
void corsd_diags_release(struct corsd_diags *d);

/**
 * corsd_diags_format() - render one diagnostic as
 * "FILE:LINE:COL: error: MESSAGE [rule-id]".
 * Return: the length it needed (snprintf semantics).
 */
int corsd_diags_format(const struct corsd_diags *d, size_t i, char *buf,
		       size_t size);

/* The stable id of a rule ("origin-syntax"), or "?" when out of range. */
const char *corsd_rule_id(enum corsd_rule rule);

/* ---- loading and compiling -------------------------------------------- */

struct corsd_policy_set;	/* a validated policy file, not yet compiled */
struct corsd_snapshot;		/* compiled, immutable, one arena */

/**
 * corsd_policy_set_load_file() - read and validate a policy file.
 * @path: the file.
 * @diags: receives every error and warning, in one pass.
 * @err: out: 0, -CORSD_EIO (unreadable), -CORSD_EPOLICY (errors in
 *       @diags) or -CORSD_ENOMEM.
 *
 * Return: a policy set, or NULL when the file has any error.  Warnings
 * alone do not fail the load.
 */
struct corsd_policy_set *corsd_policy_set_load_file(const char *path,
						    struct corsd_diags *diags,
						    int *err);

/* As corsd_policy_set_load_file(), from memory; @name is what diagnostics
 * print as the file. */
struct corsd_policy_set *corsd_policy_set_load_buffer(const char *name,
						      const char *buf,
						      size_t len,
						      struct corsd_diags *diags,
						      int *err);

void corsd_policy_set_free(struct corsd_policy_set *set);

/**
 * corsd_snapshot_compile() - compile a policy set into a snapshot.
 * @set: the validated set; not modified, may be freed afterwards.
 * @generation: stamped into the snapshot (the daemon counts reloads).
 * @err: out: 0 or -CORSD_E*.
 *
 * Return: an immutable snapshot in one arena, or NULL.  The snapshot is
 * safe to share between threads for corsd_decide().
 */
struct corsd_snapshot *corsd_snapshot_compile(const struct corsd_policy_set *set,
					      uint64_t generation, int *err);

void corsd_snapshot_free(struct corsd_snapshot *snap);
uint64_t corsd_snapshot_generation(const struct corsd_snapshot *snap);
/* Bytes held by the snapshot, regexes excluded. */
size_t corsd_snapshot_size(const struct corsd_snapshot *snap);
/* The policies of a snapshot, in file order: count, and the i-th name. */
size_t corsd_snapshot_policy_count(const struct corsd_snapshot *snap);
struct corsd_str corsd_snapshot_policy_name(const struct corsd_snapshot *snap,
					    size_t i);

/* ---- decide ----------------------------------------------------------- */

/*
 * A request as a web server saw it.  Absent headers have p == NULL; a
 * header that was present but empty has p != NULL and len == 0.  Several
 * Access-Control-Request-Headers lines are joined with ',' by the caller.
 */
struct corsd_request {
	struct corsd_str policy;
	struct corsd_str method;
	struct corsd_str origin;
	struct corsd_str acrm;	/* Access-Control-Request-Method */
	struct corsd_str acrh;	/* Access-Control-Request-Headers */
	struct corsd_str acrpn;	/* Access-Control-Request-Private-Network */
};

enum corsd_verdict {
	CORSD_VERDICT_NOT_CORS = 0,	/* no Origin: only Vary, if anything */
	CORSD_VERDICT_ALLOW = 1,	/* add the headers; status if preflight */
	CORSD_VERDICT_DENY = 2,		/* answer with status, no CORS headers */
	CORSD_VERDICT_PASS = 3,		/* rejected: to the app, no CORS headers */
	CORSD_VERDICT_EMPTY = 4,	/* rejected preflight: 200, no CORS headers */
	CORSD_VERDICT_NO_POLICY = 5,	/* the policy name is unknown */
	CORSD_VERDICT_UNAVAILABLE = 6,	/* client library: corsd did not answer */
	CORSD_VERDICT__COUNT
};

#define CORSD_ANSWER_HEADERS_MAX 8
#define CORSD_ANSWER_BLOCK_MAX	 12288
#define CORSD_ANSWER_SUBJECT_MAX 96
#define CORSD_MAX_AGE_NONE	 UINT32_MAX

enum corsd_reason {
#define CORSD_REASON(name, stat, fmt) CORSD_REASON_##name,
#include "../tbl/reasons.h"
#undef CORSD_REASON
	CORSD_REASON__COUNT
};

/* One response header: offsets into corsd_answer.block. */
struct corsd_header_ref {
	uint16_t name_off;
	uint16_t name_len;
	uint16_t value_off;
	uint16_t value_len;
};

#define CORSD_ANSWER_PREFLIGHT 0x1u	/* the request was a preflight */

/*
 * The answer to one request.  Fixed-width fields and offsets only, so the
 * daemon copies it into shared memory as it is.  Only the first block_len
 * bytes of block and the first nheaders refs are meaningful; decide()
 * writes nothing past them.
 *
 * status: for a preflight, the status to answer with; for an actual
 * request, 0 (the application's status stands) or 403 (on_origin_reject:
 * deny).  PASS answers have status 0.
 */
struct corsd_answer {
	uint8_t verdict;		/* enum corsd_verdict */
	uint8_t flags;			/* CORSD_ANSWER_* */
	uint16_t status;
	uint16_t reason;		/* enum corsd_reason */
	uint16_t nheaders;
	uint32_t max_age;		/* seconds; CORSD_MAX_AGE_NONE if unset */
	uint16_t block_len;
	uint16_t subject_len;
	char subject[CORSD_ANSWER_SUBJECT_MAX];	/* printable ASCII only */
	struct corsd_header_ref headers[CORSD_ANSWER_HEADERS_MAX];
	char block[CORSD_ANSWER_BLOCK_MAX];
};

/**
 * corsd_decide() - decide one request (DESIGN.md section 3).
 * @snap: a compiled snapshot.
 * @req: the request; its strings are only read during the call.
 * @ans: caller-owned; filled in.
 *
 * Never allocates, never calls locale-dependent functions, never reads
 * past the lengths given.  Safe to call from many threads on one snapshot.
 * Return: 0, or -CORSD_EINVAL when @snap, @req or @ans is NULL.
 */
int corsd_decide(const struct corsd_snapshot *snap,
		 const struct corsd_request *req, struct corsd_answer *ans);

/**
 * corsd_answer_reason() - the one-line reason, with its subject filled in.
 * Return: the length needed (snprintf semantics).
 */
int corsd_answer_reason(const struct corsd_answer *ans, char *buf,
			size_t size);

/* "allow", "deny", ...; "?" when out of range. */
const char *corsd_verdict_name(unsigned verdict);
/* The stats name of a reason ("method-not-allowed"); "?" when out of range. */
const char *corsd_reason_name(unsigned reason);

/* The idx-th header of an answer as two strings; idx < ans->nheaders. */
static inline struct corsd_str
corsd_answer_header_name(const struct corsd_answer *ans, unsigned idx)
{
	struct corsd_str s = { ans->block + ans->headers[idx].name_off,
			       ans->headers[idx].name_len };
	return s;
}

static inline struct corsd_str
corsd_answer_header_value(const struct corsd_answer *ans, unsigned idx)
{
	struct corsd_str s = { ans->block + ans->headers[idx].value_off,
			       ans->headers[idx].value_len };
	return s;
}

#ifdef __cplusplus
}
#endif

#endif /* CORSD_ENGINE_H */
