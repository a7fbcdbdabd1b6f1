/*
 * test_decide.c - decide() against DESIGN.md section 3 and the seeds'
 * worked examples.
 *
 * Layer: tests.  Every row is a request and the answer DESIGN.md says it
 * gets, written by hand: verdict, status, reason and the exact set of
 * response headers (order is not part of the contract, so both sides are
 * compared sorted).  All request strings go through guard_copy(), so a
 * read past any of them faults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corsd_engine.h"
#include "snapshot_int.h"
#include "testutil.h"

#define VARY_PF                                         \
	"Vary: Origin, Access-Control-Request-Method, " \
	"Access-Control-Request-Headers\n"

static const char policy_yaml[] =
	"version: 1\n"
	"policies:\n"
	/* MDN, Access-Control-Allow-Methods: the PUT preflight example. */
	"  mdn:\n"
	"    origins: [https://app.example.re]\n"
	"    methods: [GET, POST, PUT, DELETE]\n"
	"    max_age: 7200\n"
	/* MDN: \"a more restrictive server permits only GET and POST\". */
	"  mdn-strict:\n"
	"    origins: [https://app.example.re]\n"
	"    methods: [GET, POST]\n"
	/* MDN, Access-Control-Allow-Headers: the DELETE preflight. */
	"  mdn-headers:\n"
	"    origins: [https://foo.bar.org]\n"
	"    methods: [POST, GET, OPTIONS, DELETE]\n"
	"    allow_headers: [origin, x-requested-with]\n"
	"    max_age: 86400\n"
	"    preflight_status: 200\n"
	/* An empty methods list means the default, as if omitted. */
	"  empty-methods:\n"
	"    origins: [https://foo.bar.org]\n"
	"    methods: []\n"
	"  mdn-custom:\n"
	"    origins: [https://foo.bar.org]\n"
	"    allow_headers: [X-Custom-Header, Upgrade-Insecure-Requests]\n"
	/* Azure API Management's example, trailing slashes and all. */
	"  apim:\n"
	"    origins: [\"http://localhost:8080/\", \"http://example.com/\"]\n"
	"    credentials: true\n"
	"    methods: [GET, POST, PATCH, DELETE]\n"
	"    max_age: 300\n"
	"    allow_headers: [x-zumo-installation-id, x-zumo-application,\n"
	"                    x-zumo-version, x-zumo-auth, content-type, "
	"accept]\n"
	"    expose_headers: [x-zumo-installation-id, x-zumo-application]\n"
	/* APIM: no methods section; default ports written out. */
	"  apim-defaults:\n"
	"    origins: [\"https://api.example.com:443\", "
	"\"http://plain.example.com:80\"]\n"
	/* webMethods API Gateway's table, as the deny behaviour. */
	"  gateway:\n"
	"    origins: [http://test2.com]\n"
	"    methods: [POST, GET, PUT]\n"
	"    allow_headers: [test1, test2]\n"
	"    on_preflight_reject: deny\n"
	"    on_origin_reject: deny\n"
	"  gateway-ok:\n"
	"    origins: [http://test2.com]\n"
	"    methods: [POST]\n"
	"    allow_headers: [test1, test2]\n"
	"    max_age: 100\n"
	"    credentials: true\n"
	"    expose_headers: [header1, header2]\n"
	"    preflight_status: 200\n"
	"    on_preflight_reject: deny\n"
	"    on_origin_reject: deny\n"
	/* Credentials and wildcards. */
	"  mixed:\n"
	"    origins: [\"*\", https://app.example.com]\n"
	"    credentials: true\n"
	"    methods: [GET, PUT]\n"
	"    expose_headers: [X-Request-Id]\n"
	"  public:\n"
	"    origins: [\"*\"]\n"
	"    methods: \"*\"\n"
	"    allow_headers: \"*\"\n"
	"    expose_headers: \"*\"\n"
	"  public-auth:\n"
	"    origins: [\"*\"]\n"
	"    allow_headers: [\"*\", Authorization]\n"
	"  reflect:\n"
	"    origins: [https://app.example.com]\n"
	"    credentials: true\n"
	"    methods: \"*\"\n"
	"    allow_headers: \"*\"\n"
	"  with-null:\n"
	"    origins: [\"null\", https://app.example.com]\n"
	/* Methods are case-sensitive tokens. */
	"  upper-patch:\n"
	"    origins: [https://app.example.com]\n"
	"    methods: [PATCH]\n"
	"  lower-patch:\n"
	"    origins: [https://app.example.com]\n"
	"    methods: [patch, put]\n"
	/* Origin rules. */
	"  rules:\n"
	"    origins:\n"
	"      - https://app.example.com\n"
	"      - https://*.example.org\n"
	"      - http://localhost:*\n"
	"      - \"~^https://pr-[0-9]+\\\\.preview\\\\.example\\\\.net$\"\n"
	"      - https://*.ports.example:8443\n"
	"      - https://*.anyport.example:*\n"
	"    allow_headers: [X-A, X-B, X-C]\n"
	"    on_preflight_reject: deny\n"
	/* Reject behaviours and private network. */
	"  reject-pass:\n"
	"    origins: [https://app.example.com]\n"
	"    on_preflight_reject: pass\n"
	"  reject-empty:\n"
	"    origins: [https://app.example.com]\n"
	"    on_preflight_reject: empty\n"
	"  pna:\n"
	"    origins: [https://app.example.com]\n"
	"    private_network: true\n"
	"    preflight_status: 200\n"
	/* More keys than decide() scans linearly: the hashed path. */
	"  wide:\n"
	"    origins: [https://o1.example, https://o2.example, "
	"https://o3.example,\n"
	"              https://o4.example, https://o5.example, "
	"https://o6.example,\n"
	"              https://o7.example, https://o8.example, "
	"https://o9.example,\n"
	"              https://o10.example]\n"
	"    methods: [M1, M2, M3, M4, M5, M6, M7, M8, M9, M10]\n"
	"    allow_headers: [H1, H2, H3, H4, H5, H6, H7, H8, H9, H10]\n";

struct dcase {
	const char *name;
	const char *policy;
	const char *method;
	const char *origin;
	const char *acrm;
	const char *acrh;
	const char *acrpn;
	unsigned verdict;
	unsigned status;
	unsigned reason;
	const char *headers;	 /* "Name: value\n" lines, any order */
	const char *reason_text; /* NULL: not checked */
};

static struct corsd_snapshot *snap;

static int
setup(void **state)
{
	struct corsd_diags d;
	struct corsd_policy_set *set;
	int err;

	(void)state;
	corsd_diags_init(&d);
	set = corsd_policy_set_load_buffer("decide.yaml", policy_yaml,
					   sizeof(policy_yaml) - 1, &d, &err);
	for (size_t i = 0; i < d.n; i++) {
		char line[512];

		corsd_diags_format(&d, i, line, sizeof(line));
		if (d.v[i].severity == CORSD_SEV_ERROR)
			fprintf(stderr, "%s\n", line);
	}
	corsd_diags_release(&d);
	if (!set)
		return -1;
	snap = corsd_snapshot_compile(set, 1, &err);
	corsd_policy_set_free(set);
	return snap ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	corsd_snapshot_free(snap);
	guard_release_all();
	return 0;
}

static int
cmp_lines(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Split "a\nb\n" into sorted lines; returns the count. */
static size_t
sorted_lines(char *buf, char **lines, size_t max)
{
	size_t n = 0;

	for (char *save = NULL, *t = strtok_r(buf, "\n", &save); t && n < max;
	     t = strtok_r(NULL, "\n", &save))
		lines[n++] = t;
	qsort(lines, n, sizeof(*lines), cmp_lines);
	return n;
}

static struct corsd_str
G(const char *s) {
	struct corsd_str r = {NULL, 0};

	return s ? guard_str(s) : r;
}

static void
check_case(const struct dcase *c)
{
	struct corsd_request req = {
		.policy = G(c->policy),
		.method = G(c->method ? c->method : "GET"),
		.origin = G(c->origin),
		.acrm = G(c->acrm),
		.acrh = G(c->acrh),
		.acrpn = G(c->acrpn),
	};
	static struct corsd_answer ans;
	char got[16384], want[4096], reason[512];
	char *gl[16], *wl[16];
	size_t len = 0, ng, nw;

	memset(&ans, 0xa5, sizeof(ans));
	assert_int_equal(corsd_decide(snap, &req, &ans), 0);
	for (unsigned i = 0; i < ans.nheaders; i++) {
		struct corsd_str n = corsd_answer_header_name(&ans, i);
		struct corsd_str v = corsd_answer_header_value(&ans, i);

		assert_true(ans.headers[i].name_off + n.len <= ans.block_len);
		assert_true(ans.headers[i].value_off + v.len <= ans.block_len);
		len += (size_t)snprintf(got + len, sizeof(got) - len,
					"%.*s: %.*s\n", (int)n.len, n.p,
					(int)v.len, v.p);
	}
	got[len] = '\0';
	snprintf(want, sizeof(want), "%s", c->headers ? c->headers : "");
	corsd_answer_reason(&ans, reason, sizeof(reason));
	if (ans.verdict != c->verdict || ans.status != c->status ||
	    ans.reason != c->reason)
		fail_msg("%s: got verdict %s status %u reason %s (%s)", c->name,
			 corsd_verdict_name(ans.verdict), ans.status,
			 corsd_reason_name(ans.reason), reason);
	ng = sorted_lines(got, gl, 16);
	nw = sorted_lines(want, wl, 16);
	if (ng != nw)
		fail_msg("%s: got %zu headers, want %zu", c->name, ng, nw);
	for (size_t i = 0; i < ng; i++)
		if (strcmp(gl[i], wl[i]) != 0)
			fail_msg("%s: header '%s', want '%s'", c->name, gl[i],
				 wl[i]);
	if (c->reason_text && strcmp(reason, c->reason_text) != 0)
		fail_msg("%s: reason '%s', want '%s'", c->name, reason,
			 c->reason_text);
}

static void
run(const struct dcase *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_case(&v[i]);
}

#define RUN(table) run(table, sizeof(table) / sizeof(table[0]))

enum {
	ALLOW = CORSD_VERDICT_ALLOW,
	DENY = CORSD_VERDICT_DENY,
	PASS = CORSD_VERDICT_PASS,
	EMPTY = CORSD_VERDICT_EMPTY,
	NOT_CORS = CORSD_VERDICT_NOT_CORS,
	NO_POLICY = CORSD_VERDICT_NO_POLICY,
	R_OK = CORSD_REASON_ALLOWED,
};

static void
test_mdn_preflight_examples_hold(void **state)
{
	static const struct dcase t[] = {
		{"PUT preflight answered with GET, POST, PUT, DELETE", "mdn",
		 "OPTIONS", "https://app.example.re", "PUT", NULL, NULL, ALLOW,
		 204, R_OK,
		 "Access-Control-Allow-Origin: https://app.example.re\n"
		 "Access-Control-Allow-Methods: GET, POST, PUT, DELETE\n"
		 "Access-Control-Max-Age: 7200\n" VARY_PF,
		 "allowed"},
		{"the restrictive server refuses PUT", "mdn-strict", "OPTIONS",
		 "https://app.example.re", "PUT", NULL, NULL, DENY, 405,
		 CORSD_REASON_METHOD_NOT_ALLOWED, VARY_PF,
		 "Method PUT is not allowed by Access-Control-Allow-Methods "
		 "in preflight response."},
		{"DELETE preflight with origin, x-requested-with",
		 "mdn-headers", "OPTIONS", "https://foo.bar.org", "DELETE",
		 "origin, x-requested-with", NULL, ALLOW, 200, R_OK,
		 "Access-Control-Allow-Origin: https://foo.bar.org\n"
		 "Access-Control-Allow-Methods: POST, GET, OPTIONS, DELETE\n"
		 "Access-Control-Allow-Headers: origin, x-requested-with\n"
		 "Access-Control-Max-Age: 86400\n" VARY_PF,
		 NULL},
		{"custom headers example lists both names", "mdn-custom",
		 "OPTIONS", "https://foo.bar.org", "POST",
		 "x-custom-header,upgrade-insecure-requests", NULL, ALLOW, 204,
		 R_OK,
		 "Access-Control-Allow-Origin: https://foo.bar.org\n"
		 "Access-Control-Allow-Methods: GET, HEAD, POST\n"
		 "Access-Control-Allow-Headers: X-Custom-Header, "
		 "Upgrade-Insecure-Requests\n" VARY_PF,
		 NULL},
		{"an empty methods list answers as the default",
		 "empty-methods", "OPTIONS", "https://foo.bar.org", "POST",
		 NULL, NULL, ALLOW, 204, R_OK,
		 "Access-Control-Allow-Origin: https://foo.bar.org\n"
		 "Access-Control-Allow-Methods: GET, HEAD, POST\n" VARY_PF,
		 NULL},
		{"a header outside the custom list is refused", "mdn-custom",
		 "OPTIONS", "https://foo.bar.org", "POST", "x-other", NULL,
		 DENY, 403, CORSD_REASON_HEADER_NOT_ALLOWED, VARY_PF,
		 "Request header field x-other is not allowed by "
		 "Access-Control-Allow-Headers in preflight response."},
	};
	(void)state;
	RUN(t);
}

static void
test_apim_examples_and_defaults_hold(void **state)
{
	static const struct dcase t[] = {
		{"credentialed PATCH preflight from localhost:8080", "apim",
		 "OPTIONS", "http://localhost:8080", "PATCH",
		 "content-type,x-zumo-auth", NULL, ALLOW, 204, R_OK,
		 "Access-Control-Allow-Origin: http://localhost:8080\n"
		 "Access-Control-Allow-Credentials: true\n"
		 "Access-Control-Allow-Methods: GET, POST, PATCH, DELETE\n"
		 "Access-Control-Allow-Headers: x-zumo-installation-id, "
		 "x-zumo-application, x-zumo-version, x-zumo-auth, "
		 "content-type, accept\n"
		 "Access-Control-Max-Age: 300\n" VARY_PF,
		 NULL},
		{"trailing slash in the policy is normalised away", "apim",
		 "GET", "http://example.com", NULL, NULL, NULL, ALLOW, 0, R_OK,
		 "Access-Control-Allow-Origin: http://example.com\n"
		 "Access-Control-Allow-Credentials: true\n"
		 "Access-Control-Expose-Headers: x-zumo-installation-id, "
		 "x-zumo-application\n"
		 "Vary: Origin\n",
		 NULL},
		{"PUT is not in the APIM list", "apim", "OPTIONS",
		 "http://localhost:8080", "PUT", NULL, NULL, DENY, 405,
		 CORSD_REASON_METHOD_NOT_ALLOWED, VARY_PF, NULL},
		{"without a methods section GET is allowed", "apim-defaults",
		 "OPTIONS", "https://api.example.com", "GET", "", NULL, ALLOW,
		 204, R_OK,
		 "Access-Control-Allow-Origin: https://api.example.com\n"
		 "Access-Control-Allow-Methods: GET, HEAD, POST\n" VARY_PF,
		 NULL},
		{"without a methods section POST is allowed", "apim-defaults",
		 "OPTIONS", "http://plain.example.com", "POST", NULL, NULL,
		 ALLOW, 204, R_OK,
		 "Access-Control-Allow-Origin: http://plain.example.com\n"
		 "Access-Control-Allow-Methods: GET, HEAD, POST\n" VARY_PF,
		 NULL},
		{"without a methods section PUT is refused", "apim-defaults",
		 "OPTIONS", "https://api.example.com", "PUT", NULL, NULL, DENY,
		 405, CORSD_REASON_METHOD_NOT_ALLOWED, VARY_PF, NULL},
		{"an explicit :443 in the request is not canonical",
		 "apim-defaults", "GET", "https://api.example.com:443", NULL,
		 NULL, NULL, PASS, 0, CORSD_REASON_ORIGIN_MALFORMED,
		 "Vary: Origin\n", NULL},
	};
	(void)state;
	RUN(t);
}

static void
test_gateway_table_rejects_with_403_405_403(void **state)
{
	static const struct dcase t[] = {
		{"row 1: origin not allowed is 403", "gateway", "OPTIONS",
		 "http://test.com", "POST", "test1,test2", NULL, DENY, 403,
		 CORSD_REASON_ORIGIN_NOT_ALLOWED, VARY_PF,
		 "No 'Access-Control-Allow-Origin' header is present on the "
		 "requested resource: origin 'http://test.com' is not "
		 "allowed"},
		{"row 2: method not allowed is 405", "gateway", "OPTIONS",
		 "http://test2.com", "DELETE", "test1,test2", NULL, DENY, 405,
		 CORSD_REASON_METHOD_NOT_ALLOWED, VARY_PF, NULL},
		{"row 3: header not supported is 403", "gateway", "OPTIONS",
		 "http://test2.com", "POST", "test3", NULL, DENY, 403,
		 CORSD_REASON_HEADER_NOT_ALLOWED, VARY_PF, NULL},
		{"row 4: allowed with every configured header", "gateway-ok",
		 "OPTIONS", "http://test2.com", "POST", "test1", NULL, ALLOW,
		 200, R_OK,
		 "Access-Control-Allow-Origin: http://test2.com\n"
		 "Access-Control-Allow-Credentials: true\n"
		 "Access-Control-Allow-Methods: POST\n"
		 "Access-Control-Allow-Headers: test1, test2\n"
		 "Access-Control-Max-Age: 100\n" VARY_PF,
		 NULL},
		{"CORS request row 1: origin not allowed is 403", "gateway-ok",
		 "GET", "http://test.com", NULL, NULL, NULL, DENY, 403,
		 CORSD_REASON_ORIGIN_NOT_ALLOWED, "Vary: Origin\n", NULL},
		{"CORS request row 2: allowed with expose headers",
		 "gateway-ok", "GET", "http://test2.com", NULL, NULL, NULL,
		 ALLOW, 0, R_OK,
		 "Access-Control-Allow-Origin: http://test2.com\n"
		 "Access-Control-Allow-Credentials: true\n"
		 "Access-Control-Expose-Headers: header1, header2\n"
		 "Vary: Origin\n",
		 NULL},
	};
	(void)state;
	RUN(t);
}

static void
test_credentials_never_reach_an_origin_through_the_wildcard(void **state)
{
	static const struct dcase t[] = {
		{"mixed: a listed origin is echoed with credentials", "mixed",
		 "GET", "https://app.example.com", NULL, NULL, NULL, ALLOW, 0,
		 R_OK,
		 "Access-Control-Allow-Origin: https://app.example.com\n"
		 "Access-Control-Allow-Credentials: true\n"
		 "Access-Control-Expose-Headers: X-Request-Id\n"
		 "Vary: Origin\n",
		 NULL},
		{"mixed: any other origin gets public access only", "mixed",
		 "GET", "https://other.example", NULL, NULL, NULL, ALLOW, 0,
		 R_OK,
		 "Access-Control-Allow-Origin: *\n"
		 "Access-Control-Expose-Headers: X-Request-Id\n"
		 "Vary: Origin\n",
		 NULL},
		{"mixed: public preflight has no credentials", "mixed",
		 "OPTIONS", "https://other.example", "PUT", NULL, NULL, ALLOW,
		 204, R_OK,
		 "Access-Control-Allow-Origin: *\n"
		 "Access-Control-Allow-Methods: GET, PUT\n" VARY_PF,
		 NULL},
		{"public: constant '*' needs no Vary", "public", "GET",
		 "https://any.example", NULL, NULL, NULL, ALLOW, 0, R_OK,
		 "Access-Control-Allow-Origin: *\n"
		 "Access-Control-Expose-Headers: *\n",
		 NULL},
		{"public: '*' methods answer '*'", "public", "OPTIONS",
		 "https://any.example", "patch", "x-anything", NULL, ALLOW, 204,
		 R_OK,
		 "Access-Control-Allow-Origin: *\n"
		 "Access-Control-Allow-Methods: *\n"
		 "Access-Control-Allow-Headers: *\n" VARY_PF,
		 NULL},
		{"public: '*' never covers authorization", "public", "OPTIONS",
		 "https://any.example", "GET", "x-a, Authorization", NULL, DENY,
		 403, CORSD_REASON_HEADER_NOT_ALLOWED, VARY_PF,
		 "Request header field authorization is not allowed by "
		 "Access-Control-Allow-Headers in preflight response."},
		{"public: a listed Authorization beside '*' is allowed",
		 "public-auth", "OPTIONS", "https://any.example", "GET",
		 "authorization,x-a", NULL, ALLOW, 204, R_OK,
		 "Access-Control-Allow-Origin: *\n"
		 "Access-Control-Allow-Methods: GET, HEAD, POST\n"
		 "Access-Control-Allow-Headers: *, Authorization\n" VARY_PF,
		 NULL},
		{"public: 'null' is never let in through '*'", "public", "GET",
		 "null", NULL, NULL, NULL, PASS, 0,
		 CORSD_REASON_ORIGIN_NOT_ALLOWED, "Vary: Origin\n", NULL},
		{"reflect: '*' methods with credentials echo the method",
		 "reflect", "OPTIONS", "https://app.example.com", "patch", NULL,
		 NULL, ALLOW, 204, R_OK,
		 "Access-Control-Allow-Origin: https://app.example.com\n"
		 "Access-Control-Allow-Credentials: true\n"
		 "Access-Control-Allow-Methods: patch\n" VARY_PF,
		 NULL},
		{"reflect: '*' headers with credentials echo the names",
		 "reflect", "OPTIONS", "https://app.example.com", "PUT",
		 "X-A, x-b", NULL, ALLOW, 204, R_OK,
		 "Access-Control-Allow-Origin: https://app.example.com\n"
		 "Access-Control-Allow-Credentials: true\n"
		 "Access-Control-Allow-Methods: PUT\n"
		 "Access-Control-Allow-Headers: x-a, x-b\n" VARY_PF,
		 NULL},
		{"reflect: authorization is never reflected", "reflect",
		 "OPTIONS", "https://app.example.com", "PUT",
		 "x-a,authorization", NULL, DENY, 403,
		 CORSD_REASON_HEADER_NOT_ALLOWED, VARY_PF, NULL},
		{"null: listed 'null' is echoed", "with-null", "GET", "null",
		 NULL, NULL, NULL, ALLOW, 0, R_OK,
		 "Access-Control-Allow-Origin: null\n"
		 "Vary: Origin\n",
		 NULL},
	};
	(void)state;
	RUN(t);
}

static void
test_methods_are_case_sensitive_tokens(void **state)
{
	static const struct dcase t[] = {
		{"PATCH listed: PATCH allowed", "upper-patch", "OPTIONS",
		 "https://app.example.com", "PATCH", NULL, NULL, ALLOW, 204,
		 R_OK,
		 "Access-Control-Allow-Origin: https://app.example.com\n"
		 "Access-Control-Allow-Methods: PATCH\n" VARY_PF,
		 NULL},
		{"PATCH listed: patch refused", "upper-patch", "OPTIONS",
		 "https://app.example.com", "patch", NULL, NULL, DENY, 405,
		 CORSD_REASON_METHOD_NOT_ALLOWED, VARY_PF,
		 "Method patch is not allowed by Access-Control-Allow-Methods "
		 "in preflight response."},
		{"patch listed: patch allowed, put normalised to PUT",
		 "lower-patch", "OPTIONS", "https://app.example.com", "patch",
		 NULL, NULL, ALLOW, 204, R_OK,
		 "Access-Control-Allow-Origin: https://app.example.com\n"
		 "Access-Control-Allow-Methods: patch, PUT\n" VARY_PF,
		 NULL},
		{"patch listed: PATCH refused", "lower-patch", "OPTIONS",
		 "https://app.example.com", "PATCH", NULL, NULL, DENY, 405,
		 CORSD_REASON_METHOD_NOT_ALLOWED, VARY_PF, NULL},
		{"put in a policy means PUT", "lower-patch", "OPTIONS",
		 "https://app.example.com", "PUT", NULL, NULL, ALLOW, 204, R_OK,
		 "Access-Control-Allow-Origin: https://app.example.com\n"
		 "Access-Control-Allow-Methods: patch, PUT\n" VARY_PF,
		 NULL},
		{"lowercase get is not the safelisted GET", "lower-patch",
		 "OPTIONS", "https://app.example.com", "get", NULL, NULL, DENY,
		 405, CORSD_REASON_METHOD_NOT_ALLOWED, VARY_PF, NULL},
		{"an ACRM of two methods is malformed", "public", "OPTIONS",
		 "https://any.example", "GET, PUT", NULL, NULL, DENY, 405,
		 CORSD_REASON_METHOD_MALFORMED, VARY_PF, NULL},
		{"an empty ACRM is malformed", "public", "OPTIONS",
		 "https://any.example", "", NULL, NULL, DENY, 405,
		 CORSD_REASON_METHOD_MALFORMED, VARY_PF, NULL},
		{"OPTIONS without ACRM is an actual request", "mdn", "OPTIONS",
		 "https://app.example.re", NULL, NULL, NULL, ALLOW, 0, R_OK,
		 "Access-Control-Allow-Origin: https://app.example.re\n"
		 "Vary: Origin\n",
		 NULL},
	};
	(void)state;
	RUN(t);
}

static void
test_vary_is_sent_on_non_cors_and_denied_responses(void **state)
{
	static const struct dcase t[] = {
		{"no Origin: not CORS, Vary: Origin", "mdn", "GET", NULL, NULL,
		 NULL, NULL, NOT_CORS, 0, CORSD_REASON_NOT_CORS,
		 "Vary: Origin\n", NULL},
		{"no Origin under '*': still Vary, the answer differs",
		 "public", "GET", NULL, NULL, NULL, NULL, NOT_CORS, 0,
		 CORSD_REASON_NOT_CORS, "Vary: Origin\n", NULL},
		{"no Origin on a preflight-looking request: not CORS", "mdn",
		 "OPTIONS", NULL, "PUT", NULL, NULL, NOT_CORS, 0,
		 CORSD_REASON_NOT_CORS, "Vary: Origin\n", NULL},
		{"denied actual request carries Vary", "mdn", "GET",
		 "https://evil.example", NULL, NULL, NULL, PASS, 0,
		 CORSD_REASON_ORIGIN_NOT_ALLOWED, "Vary: Origin\n", NULL},
		{"unknown policy: no headers, reason names it", "no-such",
		 "GET", "https://app.example.re", NULL, NULL, NULL, NO_POLICY,
		 0, CORSD_REASON_UNKNOWN_POLICY, NULL,
		 "policy 'no-such' is not defined in the loaded policy file"},
	};
	(void)state;
	RUN(t);
}

static void
test_non_canonical_origins_never_match(void **state)
{
	static const char *const bad[] = {
		"https://APP.example.re",
		"HTTPS://app.example.re",
		"https://app.example.re:443",
		"https://app.example.re/",
		"https://app.example.re, https://app.example.re",
		"https://app.example.re https://x.example",
		"https://app.example.re\r\n",
		"https://app.example.re\t",
		" https://app.example.re",
		"https://app.example.re.",
		"",
		"https://",
		"app.example.re",
	};
	static struct dcase c = {"",
				 "mdn",
				 "GET",
				 NULL,
				 NULL,
				 NULL,
				 NULL,
				 PASS,
				 0,
				 CORSD_REASON_ORIGIN_MALFORMED,
				 "Vary: Origin\n",
				 NULL};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c.name = bad[i];
		c.origin = bad[i];
		check_case(&c);
	}
}

static void
test_origin_with_nul_byte_is_malformed(void **state)
{
	static const char o[] = "https://app.example.re\0x";
	struct corsd_request req = {.policy = S("mdn"), .method = S("GET")};
	static struct corsd_answer ans;

	(void)state;
	req.origin = guard_copy(o, sizeof(o) - 1);
	assert_int_equal(corsd_decide(snap, &req, &ans), 0);
	assert_int_equal(ans.verdict, PASS);
	assert_int_equal(ans.reason, CORSD_REASON_ORIGIN_MALFORMED);
	assert_int_equal(ans.subject_len, 0);
}

/*
 * The subject (what a rejection names) is the request's bytes with every
 * one outside printable ASCII made '?', and at most 96 bytes.  Unknown
 * policy names carry any byte; one bad byte is tried at every position
 * (the copy works eight bytes at a time), and a long denied origin is cut.
 */
static void
test_subject_is_printable_and_bounded(void **state)
{
	static const unsigned char bad[] = {0x00, 0x1f, 0x7f, 0x80, 0xff};
	static struct corsd_answer ans;
	char name[CORSD_POLICY_NAME_MAX], want[CORSD_POLICY_NAME_MAX];
	char origin[200];
	struct corsd_request req = {.method = S("GET"),
				    .origin = S("https://app.example.re")};

	(void)state;
	for (size_t i = 0; i < sizeof(name); i++)
		name[i] = (char)(0x20 + i % 0x5f);
	req.policy = guard_copy(name, sizeof(name));
	assert_int_equal(corsd_decide(snap, &req, &ans), 0);
	assert_int_equal(ans.reason, CORSD_REASON_UNKNOWN_POLICY);
	assert_int_equal(ans.subject_len, sizeof(name));
	assert_memory_equal(ans.subject, name, sizeof(name));

	for (size_t b = 0; b < sizeof(bad); b++) {
		for (size_t at = 0; at < sizeof(name); at++) {
			memcpy(want, name, sizeof(name));
			want[at] = '?';
			name[at] = (char)bad[b];
			req.policy = guard_copy(name, sizeof(name));
			assert_int_equal(corsd_decide(snap, &req, &ans), 0);
			assert_int_equal(ans.subject_len, sizeof(name));
			assert_memory_equal(ans.subject, want, sizeof(name));
			name[at] = (char)(0x20 + at % 0x5f);
		}
	}

	memcpy(origin, "https://", 8);
	memset(origin + 8, 'a', sizeof(origin) - 8 - 4);
	memcpy(origin + sizeof(origin) - 4, ".org", 4);
	req.policy = S("mdn");
	req.origin = guard_copy(origin, sizeof(origin));
	assert_int_equal(corsd_decide(snap, &req, &ans), 0);
	assert_int_equal(ans.reason, CORSD_REASON_ORIGIN_NOT_ALLOWED);
	assert_int_equal(ans.subject_len, CORSD_ANSWER_SUBJECT_MAX);
	assert_memory_equal(ans.subject, origin, CORSD_ANSWER_SUBJECT_MAX);
}

static void
test_origin_rules_resist_look_alikes(void **state)
{
	static const struct {
		const char *origin;
		unsigned reason;
	} t[] = {
		{"https://app.example.com", R_OK},
		{"https://a.example.org", R_OK},
		{"https://a.b.example.org", R_OK},
		{"https://example.org", CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"https://evil-example.org", CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"https://example.org.evil.net",
		 CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"https://aexample.org", CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"http://a.example.org", CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"wss://a.example.org", CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"https://a.example.org:8443", CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"https://.example.org", CORSD_REASON_ORIGIN_MALFORMED},
		{"http://app.example.com", CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"https://app.example.com.evil.net",
		 CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"http://localhost", R_OK},
		{"http://localhost:3000", R_OK},
		{"https://localhost:3000", CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"http://localhost.evil.net:3000",
		 CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"http://evil.localhost:3000", CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"https://pr-12.preview.example.net", R_OK},
		{"https://pr-.preview.example.net",
		 CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"https://pr-12.preview.example.net.evil.com",
		 CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"https://pr-12xpreview.example.net",
		 CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"https://a.ports.example:8443", R_OK},
		{"https://a.ports.example", CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"https://a.ports.example:443", CORSD_REASON_ORIGIN_MALFORMED},
		{"https://a.ports.example:9443",
		 CORSD_REASON_ORIGIN_NOT_ALLOWED},
		{"https://a.anyport.example:1", R_OK},
		{"https://a.anyport.example", R_OK},
		{"https://anyport.example:1", CORSD_REASON_ORIGIN_NOT_ALLOWED},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dcase c = {.name = t[i].origin,
				  .policy = "rules",
				  .method = "GET",
				  .origin = t[i].origin};
		char hdrs[512];

		c.reason = t[i].reason;
		if (t[i].reason == R_OK) {
			snprintf(hdrs, sizeof(hdrs),
				 "Access-Control-Allow-Origin: %s\n"
				 "Vary: Origin\n",
				 t[i].origin);
			c.verdict = ALLOW;
			c.headers = hdrs;
		} else {
			c.verdict = PASS;
			c.headers = "Vary: Origin\n";
		}
		check_case(&c);
	}
}

static char *
repeat(const char *unit, size_t n, const char *sep)
{
	size_t ul = strlen(unit), sl = strlen(sep);
	char *s = calloc(n * (ul + sl) + 1, 1);

	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, sep);
		strcat(s, unit);
	}
	return s;
}

#define RULES_OK                                                 \
	"Access-Control-Allow-Origin: https://app.example.com\n" \
	"Access-Control-Allow-Methods: GET, HEAD, POST\n"        \
	"Access-Control-Allow-Headers: X-A, X-B, X-C\n" VARY_PF

static void
test_acrh_parsing_is_tolerant_and_bounded(void **state)
{
	char *names64 = repeat("x-a", 64, ",");
	char *names65 = repeat("x-b", 65, ",");
	char *commas = repeat("", 1025, ",");
	char *long4097 = calloc(4098, 1);
	char *long4096 = calloc(4097, 1);
	struct dcase t[] = {
		{"three listed names", "rules", "OPTIONS",
		 "https://app.example.com", "GET", "x-a,x-b,x-c", NULL, ALLOW,
		 204, R_OK, RULES_OK, NULL},
		{"OWS, empty elements and case are tolerated", "rules",
		 "OPTIONS", "https://app.example.com", "GET",
		 " x-a , ,X-B,,\tx-C ,", NULL, ALLOW, 204, R_OK, RULES_OK,
		 NULL},
		{"1024 commas carry no names", "rules", "OPTIONS",
		 "https://app.example.com", "GET", commas, NULL, ALLOW, 204,
		 R_OK, RULES_OK, NULL},
		{"64 names are allowed", "rules", "OPTIONS",
		 "https://app.example.com", "GET", names64, NULL, ALLOW, 204,
		 R_OK, RULES_OK, NULL},
		{"65 names are denied", "rules", "OPTIONS",
		 "https://app.example.com", "GET", names65, NULL, DENY, 403,
		 CORSD_REASON_HEADERS_TOO_MANY, VARY_PF, NULL},
		{"4096 bytes are allowed", "rules", "OPTIONS",
		 "https://app.example.com", "GET", long4096, NULL, ALLOW, 204,
		 R_OK, RULES_OK, NULL},
		{"4097 bytes are denied", "rules", "OPTIONS",
		 "https://app.example.com", "GET", long4097, NULL, DENY, 403,
		 CORSD_REASON_HEADERS_TOO_LONG, VARY_PF, NULL},
		{"semicolon is malformed", "rules", "OPTIONS",
		 "https://app.example.com", "GET", "x-a;x-b", NULL, DENY, 403,
		 CORSD_REASON_HEADERS_MALFORMED, VARY_PF, NULL},
		{"space inside a list element is malformed", "rules", "OPTIONS",
		 "https://app.example.com", "GET", "x-a x-b", NULL, DENY, 403,
		 CORSD_REASON_HEADERS_MALFORMED, VARY_PF, NULL},
		{"control byte is malformed", "rules", "OPTIONS",
		 "https://app.example.com", "GET", "x-a,\x01", NULL, DENY, 403,
		 CORSD_REASON_HEADERS_MALFORMED, VARY_PF, NULL},
		{"non-ASCII is malformed", "rules", "OPTIONS",
		 "https://app.example.com", "GET", "x-\xc3\xa4", NULL, DENY,
		 403, CORSD_REASON_HEADERS_MALFORMED, VARY_PF, NULL},
		{"an unlisted name is refused by name", "rules", "OPTIONS",
		 "https://app.example.com", "GET", "x-a,X-D", NULL, DENY, 403,
		 CORSD_REASON_HEADER_NOT_ALLOWED, VARY_PF,
		 "Request header field x-d is not allowed by "
		 "Access-Control-Allow-Headers in preflight response."},
		{"a listed prefix of a name does not match", "rules", "OPTIONS",
		 "https://app.example.com", "GET", "x-ab", NULL, DENY, 403,
		 CORSD_REASON_HEADER_NOT_ALLOWED, VARY_PF, NULL},
	};

	(void)state;
	/* One name padded with commas to exactly the limit, and one past. */
	memset(long4096, ',', 4096);
	memcpy(long4096, "x-a", 3);
	memcpy(long4097, long4096, 4096);
	long4097[4096] = ',';
	RUN(t);
	free(names64);
	free(names65);
	free(commas);
	free(long4097);
	free(long4096);
}

static void
test_private_network_and_reject_behaviours(void **state)
{
	static const struct dcase t[] = {
		{"private network asked of a policy without it", "mdn",
		 "OPTIONS", "https://app.example.re", "PUT", NULL, "true", DENY,
		 403, CORSD_REASON_PRIVATE_NETWORK_NOT_ALLOWED, VARY_PF, NULL},
		{"private network allowed", "pna", "OPTIONS",
		 "https://app.example.com", "GET", NULL, "true", ALLOW, 200,
		 R_OK,
		 "Access-Control-Allow-Origin: https://app.example.com\n"
		 "Access-Control-Allow-Methods: GET, HEAD, POST\n"
		 "Access-Control-Allow-Private-Network: true\n"
		 "Vary: Origin, Access-Control-Request-Method, "
		 "Access-Control-Request-Headers, "
		 "Access-Control-Request-Private-Network\n",
		 NULL},
		{"private network not asked: no ACAPN", "pna", "OPTIONS",
		 "https://app.example.com", "GET", NULL, NULL, ALLOW, 200, R_OK,
		 "Access-Control-Allow-Origin: https://app.example.com\n"
		 "Access-Control-Allow-Methods: GET, HEAD, POST\n"
		 "Vary: Origin, Access-Control-Request-Method, "
		 "Access-Control-Request-Headers, "
		 "Access-Control-Request-Private-Network\n",
		 NULL},
		{"on_preflight_reject pass hands over to the app",
		 "reject-pass", "OPTIONS", "https://evil.example", "GET", NULL,
		 NULL, PASS, 0, CORSD_REASON_ORIGIN_NOT_ALLOWED, VARY_PF, NULL},
		{"on_preflight_reject empty answers 200 bare", "reject-empty",
		 "OPTIONS", "https://app.example.com", "DELETE", NULL, NULL,
		 EMPTY, 200, CORSD_REASON_METHOD_NOT_ALLOWED, VARY_PF, NULL},
		{"on_preflight_reject deny: malformed origin is 403", "mdn",
		 "OPTIONS", "https://APP.example.re", "PUT", NULL, NULL, DENY,
		 403, CORSD_REASON_ORIGIN_MALFORMED, VARY_PF,
		 "The 'Origin' request header is not a serialized origin"},
	};
	(void)state;
	RUN(t);
}

static void
test_large_tables_are_looked_up_by_hash(void **state)
{
	static const struct dcase t[] = {
		{"the tenth origin, method and header", "wide", "OPTIONS",
		 "https://o10.example", "M10", "h10, H1", NULL, ALLOW, 204,
		 R_OK,
		 "Access-Control-Allow-Origin: https://o10.example\n"
		 "Access-Control-Allow-Methods: M1, M2, M3, M4, M5, M6, M7, "
		 "M8, M9, M10\n"
		 "Access-Control-Allow-Headers: H1, H2, H3, H4, H5, H6, H7, "
		 "H8, H9, H10\n" VARY_PF,
		 NULL},
		{"an eleventh origin is not there", "wide", "GET",
		 "https://o11.example", NULL, NULL, NULL, PASS, 0,
		 CORSD_REASON_ORIGIN_NOT_ALLOWED, "Vary: Origin\n", NULL},
		{"an eleventh method is not there", "wide", "OPTIONS",
		 "https://o1.example", "M11", NULL, NULL, DENY, 405,
		 CORSD_REASON_METHOD_NOT_ALLOWED, VARY_PF, NULL},
		{"an eleventh header is not there", "wide", "OPTIONS",
		 "https://o1.example", "M1", "h11", NULL, DENY, 403,
		 CORSD_REASON_HEADER_NOT_ALLOWED, VARY_PF, NULL},
	};
	(void)state;
	RUN(t);
}

static void
test_answer_carries_the_policy_max_age(void **state)
{
	struct corsd_request req = {.policy = S("mdn"),
				    .method = S("GET"),
				    .origin = S("https://app.example.re")};
	static struct corsd_answer ans;

	(void)state;
	assert_int_equal(corsd_decide(snap, &req, &ans), 0);
	assert_int_equal(ans.max_age, 7200);
	req.policy = S("mdn-strict");
	assert_int_equal(corsd_decide(snap, &req, &ans), 0);
	assert_int_equal(ans.max_age, CORSD_MAX_AGE_NONE);
	assert_int_equal(corsd_decide(NULL, &req, &ans), -CORSD_EINVAL);
	assert_int_equal(corsd_decide(snap, NULL, &ans), -CORSD_EINVAL);
}

static void
test_snapshot_lists_its_policies_in_file_order(void **state)
{
	struct corsd_str n;

	(void)state;
	assert_int_equal(corsd_snapshot_policy_count(snap), 21);
	n = corsd_snapshot_policy_name(snap, 0);
	assert_int_equal(n.len, 3);
	assert_memory_equal(n.p, "mdn", 3);
	n = corsd_snapshot_policy_name(snap, 19);
	assert_memory_equal(corsd_snapshot_policy_name(snap, 20).p, "wide", 4);
	assert_memory_equal(n.p, "pna", 3);
	assert_null(corsd_snapshot_policy_name(snap, 21).p);
	assert_int_equal(corsd_snapshot_generation(snap), 1);
}

/*
 * A snapshot enters the API by pointer: one whose magic is not the
 * engine's (corrupted, or freed: corsd_snapshot_free() zeroes it) is
 * refused by every entry point.  Tested on a byte copy of a live arena,
 * which is a working snapshot until its magic is touched, so there is no
 * read of freed memory; had corsd_snapshot_free() not refused the copy,
 * its own free() below would be a double free (ASan build).
 */
static void
test_snapshot_with_a_wrong_magic_is_refused(void **state)
{
	static const uint64_t bad[] = {0, CORSD_SNAPSHOT_MAGIC ^ 1,
				       ~CORSD_SNAPSHOT_MAGIC};
	struct corsd_request req = {.policy = S("mdn"),
				    .method = S("GET"),
				    .origin = S("https://app.example.re")};
	static struct corsd_answer ans;
	size_t size = corsd_snapshot_size(snap);
	struct corsd_snapshot *copy = malloc(size);

	(void)state;
	assert_non_null(copy);
	memcpy(copy, snap, size);
	assert_int_equal(corsd_decide(copy, &req, &ans), 0);
	assert_int_equal(ans.verdict, CORSD_VERDICT_ALLOW);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		copy->magic = bad[i];
		assert_int_equal(corsd_decide(copy, &req, &ans), -CORSD_EINVAL);
		assert_int_equal(corsd_snapshot_generation(copy), 0);
		assert_int_equal(corsd_snapshot_size(copy), 0);
		assert_int_equal(corsd_snapshot_policy_count(copy), 0);
		assert_null(corsd_snapshot_policy_name(copy, 0).p);
		corsd_snapshot_free(copy);
	}
	/* The regexes the copy points to are still the live snapshot's. */
	assert_int_equal(corsd_decide(snap, &req, &ans), 0);
	free(copy);
}

/*
 * The arena grows (and may move) while the policy-name table is built, at
 * some count of policies or other: try many counts, and every name must
 * still be found afterwards.
 */
static void
test_every_policy_of_a_large_file_is_found(void **state)
{
	size_t cap = 200 * 80;
	char *yaml = malloc(cap);
	static struct corsd_answer ans;

	(void)state;
	for (int n = 1; n <= 200; n += 1 + n / 16) {
		struct corsd_diags d;
		struct corsd_policy_set *set;
		struct corsd_snapshot *big;
		size_t len = 0;
		int err;

		len += (size_t)snprintf(yaml + len, cap - len,
					"version: 1\npolicies:\n");
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(yaml + len, cap - len,
						"  p%d:\n    origins: "
						"[https://o%d.example]\n",
						i, i);
		corsd_diags_init(&d);
		set = corsd_policy_set_load_buffer("big.yaml", yaml, len, &d,
						   &err);
		assert_non_null(set);
		big = corsd_snapshot_compile(set, 9, &err);
		assert_non_null(big);
		for (int i = 0; i < n; i++) {
			char name[16], origin[32];
			struct corsd_request req = {.method = S("GET")};

			snprintf(name, sizeof(name), "p%d", i);
			snprintf(origin, sizeof(origin), "https://o%d.example",
				 i);
			req.policy = S(name);
			req.origin = S(origin);
			assert_int_equal(corsd_decide(big, &req, &ans), 0);
			if (ans.verdict != CORSD_VERDICT_ALLOW)
				fail_msg("%d policies: '%s' not found", n,
					 name);
		}
		corsd_snapshot_free(big);
		corsd_policy_set_free(set);
		corsd_diags_release(&d);
	}
	free(yaml);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mdn_preflight_examples_hold),
		cmocka_unit_test(test_apim_examples_and_defaults_hold),
		cmocka_unit_test(test_gateway_table_rejects_with_403_405_403),
		cmocka_unit_test(
			test_credentials_never_reach_an_origin_through_the_wildcard),
		cmocka_unit_test(test_methods_are_case_sensitive_tokens),
		cmocka_unit_test(
			test_vary_is_sent_on_non_cors_and_denied_responses),
		cmocka_unit_test(test_non_canonical_origins_never_match),
		cmocka_unit_test(test_origin_with_nul_byte_is_malformed),
		cmocka_unit_test(test_subject_is_printable_and_bounded),
		cmocka_unit_test(test_origin_rules_resist_look_alikes),
		cmocka_unit_test(test_acrh_parsing_is_tolerant_and_bounded),
		cmocka_unit_test(test_private_network_and_reject_behaviours),
		cmocka_unit_test(test_large_tables_are_looked_up_by_hash),
		cmocka_unit_test(test_answer_carries_the_policy_max_age),
		cmocka_unit_test(
			test_snapshot_lists_its_policies_in_file_order),
		cmocka_unit_test(test_snapshot_with_a_wrong_magic_is_refused),
		cmocka_unit_test(test_every_policy_of_a_large_file_is_found),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
