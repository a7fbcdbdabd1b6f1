/*
 * test_types.c - the public vocabulary every layer shares: the preflight
 * rule, verdict and reason names, error strings.
 *
 * Layer: tests.  Each of these words has one home (corsd_types.h and the
 * tables under engine/include/corsd/); the engine, the client library and
 * the web-server modules all use it, so a change here changes them all.
 * Expectations are written by hand from DESIGN.md section 3 and README.md.
 * Request strings go through guard_copy(), so a read past one faults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "corsd_engine.h"
#include "testutil.h"

struct preflight_case {
	const char *name;
	const char *method;
	const char *origin; /* NULL: absent */
	const char *acrm;   /* NULL: absent */
	int want;
};

/* DESIGN.md section 3: "Preflight: method OPTIONS with an Origin and an
 * ACRM. OPTIONS without ACRM is an ordinary CORS request."  Methods are
 * case-sensitive tokens. */
static const struct preflight_case preflight_cases[] = {
	{"options with origin and acrm", "OPTIONS", "https://a.example", "PUT",
	 1},
	{"an empty acrm is still present", "OPTIONS", "https://a.example", "",
	 1},
	{"an empty origin is still present", "OPTIONS", "", "PUT", 1},
	{"options without acrm is an actual request", "OPTIONS",
	 "https://a.example", NULL, 0},
	{"options without origin is not cors", "OPTIONS", NULL, "PUT", 0},
	{"lowercase options is another method", "options", "https://a.example",
	 "PUT", 0},
	{"mixed-case options is another method", "Options", "https://a.example",
	 "PUT", 0},
	{"get with acrm is no preflight", "GET", "https://a.example", "PUT", 0},
	{"a prefix of options is no preflight", "OPTION", "https://a.example",
	 "PUT", 0},
	{"options with a suffix is no preflight", "OPTIONSX",
	 "https://a.example", "PUT", 0},
	{"an empty method is no preflight", "", "https://a.example", "PUT", 0},
};

static struct corsd_str
guarded_or_absent(const char *s)
{
	return s ? guard_str(s) : S(NULL);
}

static void
test_request_is_preflight_follows_design_section_3(void **state)
{
	(void)state;
	for (size_t i = 0;
	     i < sizeof(preflight_cases) / sizeof(preflight_cases[0]); i++) {
		const struct preflight_case *c = &preflight_cases[i];
		struct corsd_request req = {
			.method = guard_str(c->method),
			.origin = guarded_or_absent(c->origin),
			.acrm = guarded_or_absent(c->acrm),
		};

		if (corsd_request_is_preflight(&req) != c->want)
			fail_msg("%s: got %d, want %d", c->name, !c->want,
				 c->want);
	}
	guard_release_all();
}

/* The names README.md's stats and `corsctl decide` output use. */
static void
test_verdict_names_are_the_documented_words(void **state)
{
	static const struct {
		unsigned verdict;
		const char *name;
	} want[] = {
		{CORSD_VERDICT_NOT_CORS, "not-cors"},
		{CORSD_VERDICT_ALLOW, "allow"},
		{CORSD_VERDICT_DENY, "deny"},
		{CORSD_VERDICT_PASS, "pass"},
		{CORSD_VERDICT_EMPTY, "empty"},
		{CORSD_VERDICT_NO_POLICY, "no-policy"},
		{CORSD_VERDICT_UNAVAILABLE, "unavailable"},
	};

	(void)state;
	assert_int_equal(CORSD_VERDICT__COUNT, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(corsd_verdict_name(want[i].verdict),
				    want[i].name);
	assert_string_equal(corsd_verdict_name(CORSD_VERDICT__COUNT), "?");
	assert_string_equal(corsd_verdict_name(~0u), "?");
}

/* Verdict values cross the shared-memory ABI: they never move. */
static void
test_verdict_values_are_stable(void **state)
{
	(void)state;
	assert_int_equal(CORSD_VERDICT_NOT_CORS, 0);
	assert_int_equal(CORSD_VERDICT_ALLOW, 1);
	assert_int_equal(CORSD_VERDICT_DENY, 2);
	assert_int_equal(CORSD_VERDICT_PASS, 3);
	assert_int_equal(CORSD_VERDICT_EMPTY, 4);
	assert_int_equal(CORSD_VERDICT_NO_POLICY, 5);
	assert_int_equal(CORSD_VERDICT_UNAVAILABLE, 6);
}

static void
test_reason_names_cover_every_reason(void **state)
{
	(void)state;
	for (unsigned r = 0; r < CORSD_REASON__COUNT; r++) {
		const char *n = corsd_reason_name(r);

		assert_non_null(n);
		assert_string_not_equal(n, "?");
		/* Stats keys: lower case and '-' only. */
		for (const char *p = n; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || *p == '-');
	}
	assert_string_equal(corsd_reason_name(CORSD_REASON_METHOD_NOT_ALLOWED),
			    "method-not-allowed");
	assert_string_equal(corsd_reason_name(CORSD_REASON__COUNT), "?");
}

/* Codes are returned negated; 12 and 13 are retired and stay unknown. */
static void
test_strerror_names_codes_and_refuses_retired_ones(void **state)
{
	(void)state;
	assert_string_equal(corsd_strerror(0), "success");
	assert_string_equal(corsd_strerror(-CORSD_ENOMEM), "out of memory");
	assert_string_equal(corsd_strerror(CORSD_ENOMEM), "out of memory");
	assert_string_equal(corsd_strerror(-CORSD_EUNAVAIL),
			    "corsd is not available");
	assert_string_equal(corsd_strerror(-CORSD_EPERM), "permission denied");
	assert_string_equal(corsd_strerror(-12), "unknown error");
	assert_string_equal(corsd_strerror(-13), "unknown error");
	assert_string_equal(corsd_strerror(-1000), "unknown error");
	assert_string_equal(corsd_strerror(-2147483647 - 1), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_request_is_preflight_follows_design_section_3),
		cmocka_unit_test(test_verdict_names_are_the_documented_words),
		cmocka_unit_test(test_verdict_values_are_stable),
		cmocka_unit_test(test_reason_names_cover_every_reason),
		cmocka_unit_test(
			test_strerror_names_codes_and_refuses_retired_ones),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
