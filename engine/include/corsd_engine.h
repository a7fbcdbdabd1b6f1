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
 *	struct corsd_policy_set *set = corsd_policy_set_load_file(path, &d,
 *&err); struct corsd_snapshot *snap = corsd_snapshot_compile(set, gen, &err);
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
#include "corsd_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- diagnostics ------------------------------------------------------ */

enum corsd_severity {
	CORSD_SEV_WARNING = 1,
	CORSD_SEV_ERROR = 2,
};

enum corsd_rule {
#define CORSD_RULE(name, id, doc) CORSD_RULE_##name,
#include "corsd/tbl_rules.h"
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
	char *file; /* the name diagnostics print; owned */
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

struct corsd_policy_set; /* a validated policy file, not yet compiled */
struct corsd_snapshot;	 /* compiled, immutable, one arena */

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
struct corsd_policy_set *
corsd_policy_set_load_buffer(const char *name, const char *buf, size_t len,
			     struct corsd_diags *diags, int *err);

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
struct corsd_snapshot *
corsd_snapshot_compile(const struct corsd_policy_set *set, uint64_t generation,
		       int *err);

/* Free a snapshot; NULL is fine.  A pointer that is not a live snapshot
 * (its magic number is wrong: freed, or not a snapshot) is refused and
 * leaked rather than freed; the accessors below answer 0 or empty for
 * it. */
void corsd_snapshot_free(struct corsd_snapshot *snap);
uint64_t corsd_snapshot_generation(const struct corsd_snapshot *snap);
/* Bytes held by the snapshot, regexes excluded. */
size_t corsd_snapshot_size(const struct corsd_snapshot *snap);
/* The policies of a snapshot, in file order: count, and the i-th name. */
size_t corsd_snapshot_policy_count(const struct corsd_snapshot *snap);
struct corsd_str corsd_snapshot_policy_name(const struct corsd_snapshot *snap,
					    size_t i);

/* ---- decide ----------------------------------------------------------- */

/**
 * corsd_decide() - decide one request (DESIGN.md section 3).
 * @snap: a compiled snapshot.
 * @req: the request; its strings are only read during the call.
 * @ans: caller-owned; filled in.
 *
 * Never allocates, never calls locale-dependent functions, never reads
 * past the lengths given.  Safe to call from many threads on one snapshot.
 * Return: 0, or -CORSD_EINVAL when @snap, @req or @ans is NULL or @snap
 * is not a live snapshot (its magic number is wrong).
 */
int corsd_decide(const struct corsd_snapshot *snap,
		 const struct corsd_request *req, struct corsd_answer *ans);

#ifdef __cplusplus
}
#endif

#endif /* CORSD_ENGINE_H */
