/*
 * corsd_types.h - what a request and its answer look like.
 *
 * Layer: shared by the engine (corsd_engine.h) and the client library
 * (corsd_client.h), which must not depend on each other: a web-server
 * worker links the client only.  struct corsd_answer crosses shared
 * memory as it is, so it holds fixed-width fields and offsets only;
 * changing it changes the segment ABI.
 */
#ifndef CORSD_TYPES_H
#define CORSD_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
#define CORSD_ORIGIN_MAX      320  /* bytes of a serialised origin */
#define CORSD_METHOD_MAX      64   /* bytes of a method token */
#define CORSD_ACRH_MAX	      4096 /* bytes of Access-Control-Request-Headers */
#define CORSD_ACRH_NAMES_MAX  64   /* names in Access-Control-Request-Headers */
#define CORSD_POLICY_NAME_MAX 64   /* bytes of a policy name */
#define CORSD_LIST_RENDER_MAX 2048 /* bytes of a rendered configured list */

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
	struct corsd_str acrpn; /* Access-Control-Request-Private-Network */
};

/*
 * corsd_request_is_preflight() - whether @r is a CORS preflight: method
 * OPTIONS (case-sensitive, as methods are) with an Origin and an
 * Access-Control-Request-Method (DESIGN.md section 3).  OPTIONS without
 * ACRM is an ordinary CORS request.  The one home of this rule: the
 * engine, the client library and the web-server modules all ask here.
 */
static inline int
corsd_request_is_preflight(const struct corsd_request *r)
{
	/* Two overlapping 4-byte loads, "OPTI" and "IONS": always inlined,
	 * where a memcmp() of 7 bytes is a call into libc on the hot path. */
	static const char lit[7] = {'O', 'P', 'T', 'I', 'O', 'N', 'S'};
	uint32_t a, b, la, lb;

	if (!r->origin.p || !r->acrm.p || r->method.len != 7)
		return 0;
	memcpy(&a, r->method.p, 4);
	memcpy(&b, r->method.p + 3, 4);
	memcpy(&la, lit, 4);
	memcpy(&lb, lit + 3, 4);
	return a == la && b == lb;
}
enum corsd_verdict {
#define CORSD_VERDICT(name, value, stat) CORSD_VERDICT_##name = (value),
#include "corsd/tbl_verdicts.h"
#undef CORSD_VERDICT
	CORSD_VERDICT__COUNT
};

#define CORSD_ANSWER_HEADERS_MAX 8
#define CORSD_ANSWER_BLOCK_MAX	 12288
#define CORSD_ANSWER_SUBJECT_MAX 96
#define CORSD_MAX_AGE_NONE	 UINT32_MAX

enum corsd_reason {
#define CORSD_REASON(name, stat, fmt) CORSD_REASON_##name,
#include "corsd/tbl_reasons.h"
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

#define CORSD_ANSWER_PREFLIGHT 0x1u /* the request was a preflight */

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
	uint8_t verdict; /* enum corsd_verdict */
	uint8_t flags;	 /* CORSD_ANSWER_* */
	uint16_t status;
	uint16_t reason; /* enum corsd_reason */
	uint16_t nheaders;
	uint32_t max_age; /* seconds; CORSD_MAX_AGE_NONE if unset */
	uint16_t block_len;
	uint16_t subject_len;
	char subject[CORSD_ANSWER_SUBJECT_MAX]; /* printable ASCII only */
	struct corsd_header_ref headers[CORSD_ANSWER_HEADERS_MAX];
	char block[CORSD_ANSWER_BLOCK_MAX];
};

/**
 * corsd_answer_reason() - the one-line reason, with its subject filled in.
 * Return: the length needed (snprintf semantics).
 */
CORSD_API int corsd_answer_reason(const struct corsd_answer *ans, char *buf,
				  size_t size);

/* "allow", "deny", ...; "?" when out of range. */
CORSD_API const char *corsd_verdict_name(unsigned verdict);
/* The stats name of a reason ("method-not-allowed"); "?" when out of range. */
CORSD_API const char *corsd_reason_name(unsigned reason);

/* The idx-th header of an answer as two strings; idx < ans->nheaders. */
static inline struct corsd_str
corsd_answer_header_name(const struct corsd_answer *ans, unsigned idx)
{
	struct corsd_str s = {ans->block + ans->headers[idx].name_off,
			      ans->headers[idx].name_len};
	return s;
}

static inline struct corsd_str
corsd_answer_header_value(const struct corsd_answer *ans, unsigned idx)
{
	struct corsd_str s = {ans->block + ans->headers[idx].value_off,
			      ans->headers[idx].value_len};
	return s;
}

#ifdef __cplusplus
}
#endif

#endif /* CORSD_TYPES_H */
