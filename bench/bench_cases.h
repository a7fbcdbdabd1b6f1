/*
 * bench_cases.h - the benchmark matrix, shared by the Google Benchmark
 * harness (bench_decide.cc) and the callgrind driver (callgrind_decide.c).
 *
 * Layer: bench.  Header-only, written in the common subset of C17 and
 * C++17, so both programs measure exactly the same policies and requests.
 * Policies are YAML text built in memory (the origin tables of 1,000 and
 * 100,000 entries are generated); request strings are copied to the heap
 * at run time, so no compiler can see their contents.  The cases are
 * modelled on jub0bs/cors-benchmarks: one / two long / multiple (exact and
 * subdomain) / 1,000 / '*' origins, each as actual and preflight request,
 * allowed and denied, plus hostile and multi-header preflights and a
 * 100,000-origin table.
 */
#ifndef CORSD_BENCH_CASES_H
#define CORSD_BENCH_CASES_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corsd_engine.h"

enum bench_policy {
	BP_ONE,	     /* one exact origin */
	BP_TWO,	     /* two exact origins with long hosts */
	BP_MULTIPLE, /* several exact origins and subdomain patterns */
	BP_1000,     /* 1,000 exact origins */
	BP_ANY,	     /* "*" */
	BP_100K,     /* 100,000 exact origins */
	BP__COUNT
};

static const char *const bench_policy_label[BP__COUNT] = {
	"one", "two", "multiple", "1000", "any", "100k",
};

/* Exact origins in the generated tables. */
static const long bench_policy_norigins[BP__COUNT] = {
	1, 2, 4, 1000, 0, 100000,
};

#define BENCH_POLICY_NAME "api"
#define BENCH_GEN_NONE	  (-1L)
#define BENCH_COMMAS	  1024 /* commas in the hostile ACRH */

struct bench_case {
	const char *name; /* "one/actual/allowed": policy/request/verdict */
	enum bench_policy policy;
	const char *method;
	const char *origin; /* NULL: generated origin number gen */
	long gen;
	const char *acrm; /* NULL: absent */
	const char *acrh; /* NULL: absent; "," alone: BENCH_COMMAS commas */
	unsigned verdict; /* what the engine must answer */
};

#define V_ALLOW CORSD_VERDICT_ALLOW
#define V_PASS	CORSD_VERDICT_PASS /* actual, on_origin_reject: pass */
#define V_DENY	CORSD_VERDICT_DENY /* preflight, on_preflight_reject: deny */

#define LONG1 \
	"https://very-long-subdomain-name.very-long-domain-name-example.com"
#define LONG2                                                                \
	"https://another-very-long-subdomain-name.another-very-long-domain-" \
	"name-example.com"
#define LONG_DENIED \
	"https://very-long-subdomain-name.very-long-domain-name-example.org"
#define ACRH3 "authorization,content-type,x-requested-with"

/*
 * Allowed requests use an origin the policy lists (for "multiple": one
 * that only a subdomain pattern matches).  Denied requests use an origin
 * the policy refuses; under "*" that is "null", which '*' never covers.
 * Actual requests are GETs; preflights ask for PUT.
 */
static const struct bench_case bench_cases[] = {
	{"one/actual/allowed", BP_ONE, "GET", "https://example.com",
	 BENCH_GEN_NONE, NULL, NULL, V_ALLOW},
	{"one/actual/denied", BP_ONE, "GET", "https://example.org",
	 BENCH_GEN_NONE, NULL, NULL, V_PASS},
	{"one/preflight/allowed", BP_ONE, "OPTIONS", "https://example.com",
	 BENCH_GEN_NONE, "PUT", NULL, V_ALLOW},
	{"one/preflight/denied", BP_ONE, "OPTIONS", "https://example.org",
	 BENCH_GEN_NONE, "PUT", NULL, V_DENY},
	{"one/preflight-3-headers/allowed", BP_ONE, "OPTIONS",
	 "https://example.com", BENCH_GEN_NONE, "PUT", ACRH3, V_ALLOW},
	{"one/preflight-acrh-1024-commas/allowed", BP_ONE, "OPTIONS",
	 "https://example.com", BENCH_GEN_NONE, "PUT", ",", V_ALLOW},

	{"two/actual/allowed", BP_TWO, "GET", LONG2, BENCH_GEN_NONE, NULL, NULL,
	 V_ALLOW},
	{"two/actual/denied", BP_TWO, "GET", LONG_DENIED, BENCH_GEN_NONE, NULL,
	 NULL, V_PASS},
	{"two/preflight/allowed", BP_TWO, "OPTIONS", LONG2, BENCH_GEN_NONE,
	 "PUT", NULL, V_ALLOW},
	{"two/preflight/denied", BP_TWO, "OPTIONS", LONG_DENIED, BENCH_GEN_NONE,
	 "PUT", NULL, V_DENY},

	{"multiple/actual/allowed", BP_MULTIPLE, "GET",
	 "https://preview.staging.example.org", BENCH_GEN_NONE, NULL, NULL,
	 V_ALLOW},
	{"multiple/actual/denied", BP_MULTIPLE, "GET",
	 "https://login.example.org.attacker.net", BENCH_GEN_NONE, NULL, NULL,
	 V_PASS},
	{"multiple/preflight/allowed", BP_MULTIPLE, "OPTIONS",
	 "https://preview.staging.example.org", BENCH_GEN_NONE, "PUT", NULL,
	 V_ALLOW},
	{"multiple/preflight/denied", BP_MULTIPLE, "OPTIONS",
	 "https://login.example.org.attacker.net", BENCH_GEN_NONE, "PUT", NULL,
	 V_DENY},

	{"1000/actual/allowed", BP_1000, "GET", NULL, 500, NULL, NULL, V_ALLOW},
	{"1000/actual/denied", BP_1000, "GET", NULL, 1000 + 7, NULL, NULL,
	 V_PASS},
	{"1000/preflight/allowed", BP_1000, "OPTIONS", NULL, 500, "PUT", NULL,
	 V_ALLOW},
	{"1000/preflight/denied", BP_1000, "OPTIONS", NULL, 1000 + 7, "PUT",
	 NULL, V_DENY},

	{"any/actual/allowed", BP_ANY, "GET", "https://example.com",
	 BENCH_GEN_NONE, NULL, NULL, V_ALLOW},
	{"any/actual/denied", BP_ANY, "GET", "null", BENCH_GEN_NONE, NULL, NULL,
	 V_PASS},
	{"any/preflight/allowed", BP_ANY, "OPTIONS", "https://example.com",
	 BENCH_GEN_NONE, "PUT", NULL, V_ALLOW},
	{"any/preflight/denied", BP_ANY, "OPTIONS", "null", BENCH_GEN_NONE,
	 "PUT", NULL, V_DENY},

	{"100k/actual/allowed", BP_100K, "GET", NULL, 50000, NULL, NULL,
	 V_ALLOW},
	{"100k/actual/denied", BP_100K, "GET", NULL, 100000 + 7, NULL, NULL,
	 V_PASS},
	{"100k/preflight/allowed", BP_100K, "OPTIONS", NULL, 50000, "PUT", NULL,
	 V_ALLOW},
	{"100k/preflight/denied", BP_100K, "OPTIONS", NULL, 100000 + 7, "PUT",
	 NULL, V_DENY},
};

#define BENCH_NCASES (sizeof(bench_cases) / sizeof(bench_cases[0]))

/* ---- a growable text buffer -------------------------------------------- */

struct bench_buf {
	char *p;
	size_t len;
	size_t cap;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline void
bench_printf(struct bench_buf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		int n;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL,
			      b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap ? b->cap * 2 : 4096;
		while (b->cap < b->len + (size_t)n + 1)
			b->cap *= 2;
		b->p = (char *)realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
}

/* The i-th generated origin: distinct for distinct i, ~45 bytes. */
static inline void
bench_gen_origin(struct bench_buf *b, long i)
{
	bench_printf(b, "https://app-%06ld.customer-%06ld.example.com", i,
		     (i * 7919L) % 1000003L);
}

/* ---- policies ---------------------------------------------------------- */

/* The policy file of @bp, as YAML text (malloc'd, NUL-terminated). */
static inline char *
bench_policy_yaml(enum bench_policy bp, size_t *len)
{
	struct bench_buf b = {NULL, 0, 0};

	bench_printf(&b, "version: 1\npolicies:\n  " BENCH_POLICY_NAME
			 ":\n    origins:\n");
	switch (bp) {
	case BP_ONE:
		bench_printf(&b, "      - https://example.com\n");
		break;
	case BP_TWO:
		bench_printf(&b, "      - " LONG1 "\n      - " LONG2 "\n");
		break;
	case BP_MULTIPLE:
		bench_printf(&b, "      - https://example.com\n"
				 "      - https://www.example.com\n"
				 "      - https://api.example.net\n"
				 "      - https://app.example.io:8443\n"
				 "      - https://*.example.org\n"
				 "      - https://*.example.dev\n");
		break;
	case BP_ANY:
		bench_printf(&b, "      - \"*\"\n");
		break;
	case BP_1000:
	case BP_100K:
		for (long i = 0; i < bench_policy_norigins[bp]; i++) {
			bench_printf(&b, "      - ");
			bench_gen_origin(&b, i);
			bench_printf(&b, "\n");
		}
		break;
	default:
		abort();
	}
	bench_printf(&b, "    methods: [GET, POST, PUT, DELETE]\n"
			 "    allow_headers: [Authorization, Content-Type, "
			 "X-Requested-With]\n"
			 "    max_age: 7200\n");
	*len = b.len;
	return b.p;
}

/* Load the policy file of @bp; prints every error.  NULL on failure. */
static inline struct corsd_policy_set *
bench_policy_load(enum bench_policy bp)
{
	struct corsd_diags d;
	struct corsd_policy_set *set;
	size_t len;
	char *yaml = bench_policy_yaml(bp, &len);
	int err = 0;

	corsd_diags_init(&d);
	set = corsd_policy_set_load_buffer(bench_policy_label[bp], yaml, len,
					   &d, &err);
	for (size_t i = 0; i < d.n; i++) {
		char line[512];

		corsd_diags_format(&d, i, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
	if (!set)
		fprintf(stderr, "bench: policy '%s' does not load (%d)\n",
			bench_policy_label[bp], err);
	corsd_diags_release(&d);
	free(yaml);
	return set;
}

/* Load and compile @bp.  NULL on failure, with the reason printed. */
static inline struct corsd_snapshot *
bench_snapshot_new(enum bench_policy bp)
{
	struct corsd_policy_set *set = bench_policy_load(bp);
	struct corsd_snapshot *snap;
	int err = 0;

	if (!set)
		return NULL;
	snap = corsd_snapshot_compile(set, 1, &err);
	if (!snap)
		fprintf(stderr, "bench: policy '%s' does not compile (%d)\n",
			bench_policy_label[bp], err);
	corsd_policy_set_free(set);
	return snap;
}

/* ---- requests ---------------------------------------------------------- */

/* A heap copy of @s: contents unknown to the compiler, not NUL-ended. */
static inline struct corsd_str
bench_str(const char *s, size_t len)
{
	struct corsd_str r = {NULL, 0};
	char *p;

	if (!s)
		return r;
	p = (char *)malloc(len ? len : 1);
	if (!p)
		abort();
	memcpy(p, s, len);
	r.p = p;
	r.len = len;
	return r;
}

static inline struct corsd_str
bench_cstr(const char *s)
{
	return bench_str(s, s ? strlen(s) : 0);
}

/* Build the request of @c; release it with bench_request_release(). */
static inline void
bench_request_init(const struct bench_case *c, struct corsd_request *req)
{
	memset(req, 0, sizeof(*req));
	req->policy = bench_cstr(BENCH_POLICY_NAME);
	req->method = bench_cstr(c->method);
	if (c->origin) {
		req->origin = bench_cstr(c->origin);
	} else {
		struct bench_buf b = {NULL, 0, 0};

		bench_gen_origin(&b, c->gen);
		req->origin = bench_str(b.p, b.len);
		free(b.p);
	}
	req->acrm = bench_cstr(c->acrm);
	if (c->acrh && strcmp(c->acrh, ",") == 0) {
		char *commas = (char *)malloc(BENCH_COMMAS);

		if (!commas)
			abort();
		memset(commas, ',', BENCH_COMMAS);
		req->acrh = bench_str(commas, BENCH_COMMAS);
		free(commas);
	} else {
		req->acrh = bench_cstr(c->acrh);
	}
}

static inline void
bench_request_release(struct corsd_request *req)
{
	free((void *)(uintptr_t)req->policy.p);
	free((void *)(uintptr_t)req->method.p);
	free((void *)(uintptr_t)req->origin.p);
	free((void *)(uintptr_t)req->acrm.p);
	free((void *)(uintptr_t)req->acrh.p);
	memset(req, 0, sizeof(*req));
}

/* Does @ans say what @c expects?  Prints why not. */
static inline int
bench_answer_ok(const struct bench_case *c, const struct corsd_answer *ans)
{
	char reason[512];

	if (ans->verdict == c->verdict &&
	    (c->verdict != CORSD_VERDICT_ALLOW || ans->nheaders > 0))
		return 1;
	corsd_answer_reason(ans, reason, sizeof(reason));
	fprintf(stderr,
		"bench: %s: got verdict %s status %u (%s), want verdict %s\n",
		c->name, corsd_verdict_name(ans->verdict), ans->status, reason,
		corsd_verdict_name(c->verdict));
	return 0;
}

#endif /* CORSD_BENCH_CASES_H */
