/*
 * test_load.c - the policy loader against DESIGN.md section 2.
 *
 * Layer: tests.  Good policies must load into the model the design
 * describes; every file of the bad-policy corpus (tests/data/bad/NAME.yaml)
 * must give exactly the diagnostics written by hand in NAME.expect, one
 * "LINE:COL SEVERITY RULE-ID" per line, in order; hostile input must be
 * answered, never crash or read out of bounds.  Run from the repository
 * root: corpus files are opened by relative path.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "corsd_engine.h"
#include "policy_int.h"
#include "testutil.h"

#define BAD_DIR	 "tests/data/bad"
#define GOOD_DIR "tests/data/good"

/* ---- helpers ---------------------------------------------------------- */

static struct corsd_policy_set *
load_str(const char *yaml, struct corsd_diags *d, int *err)
{
	struct corsd_str s = guard_str(yaml);

	corsd_diags_init(d);
	return corsd_policy_set_load_buffer("test.yaml", s.p, s.len, d, err);
}

static void
print_diags(const struct corsd_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		char line[512];

		corsd_diags_format(d, i, line, sizeof(line));
		print_message("  got: %s\n", line);
	}
}

/* A load that must succeed with no diagnostic at all. */
static struct corsd_policy_set *
load_clean(const char *yaml)
{
	struct corsd_diags d;
	struct corsd_policy_set *set;
	int err;

	set = load_str(yaml, &d, &err);
	if (!set || d.n) {
		print_diags(&d);
		fail_msg("expected a clean load, got err %d and %zu "
			 "diagnostics",
			 err, d.n);
	}
	assert_int_equal(err, 0);
	corsd_diags_release(&d);
	return set;
}

static const struct corsd_policy *
policy(const struct corsd_policy_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].name, name) == 0)
			return &set->v[i];
	fail_msg("no policy '%s'", name);
	return NULL;
}

/* The list as "A B C", with "*" first when wildcard. */
static const char *
list_str(const struct corsd_name_list *l, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (l->wildcard)
		len += (size_t)snprintf(buf, size, "*");
	for (size_t i = 0; i < l->n; i++) {
		assert_int_equal(strlen(l->v[i]), l->len[i]);
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					len ? " " : "", l->v[i]);
	}
	return buf;
}

static void
assert_list(const struct corsd_name_list *l, const char *want)
{
	char buf[4096];

	assert_string_equal(list_str(l, buf, sizeof(buf)), want);
}

static void
assert_origin(const struct corsd_origin_pattern *o, enum corsd_origin_kind kind,
	      const char *text, uint32_t line, uint32_t column)
{
	assert_int_equal(o->kind, kind);
	assert_string_equal(o->text, text);
	assert_int_equal(o->text_len, strlen(text));
	assert_int_equal(o->line, line);
	assert_int_equal(o->column, column);
}

/* ---- good policies ---------------------------------------------------- */

/* The example of DESIGN.md section 2, comments and all. */
static const char design_example[] =
	"version: 1\n"
	"policies:\n"
	"  api:                                   # name; workers select a "
	"policy by name\n"
	"    origins:\n"
	"      - https://app.example.com          # exact origin\n"
	"      - https://*.example.org            # any subdomain\n"
	"      - \"~^https://pr-[0-9]+\\\\.preview\\\\.example\\\\.net$\"\n"
	"      - \"*\"                              # any origin, public\n"
	"      - \"null\"                           # the opaque origin\n"
	"    methods: [GET, POST, PUT, DELETE, PATCH]   # or \"*\"\n"
	"    allow_headers: [Content-Type, X-Custom-Header, Authorization]\n"
	"    expose_headers: [X-Request-Id]             # or \"*\"\n"
	"    credentials: false                         # default false\n"
	"    max_age: 7200                              # seconds\n"
	"    private_network: false\n"
	"    preflight_status: 204                      # 200 or 204\n"
	"    on_preflight_reject: deny\n"
	"    on_origin_reject: pass\n";

static void
check_design_model(const struct corsd_policy_set *set, bool json)
{
	const struct corsd_policy *p;

	assert_int_equal(set->n, 1);
	p = &set->v[0];
	assert_string_equal(p->name, "api");
	assert_int_equal(p->name_len, 3);
	/* "*" and "null" are flags: origins[] holds what the compiler
	 * hashes or runs. */
	assert_true(p->origin_any);
	assert_true(p->origin_null);
	assert_int_equal(p->norigins, 3);
	if (!json) {
		assert_origin(&p->origins[0], CORSD_ORIGIN_EXACT,
			      "https://app.example.com", 5, 9);
		assert_origin(&p->origins[1], CORSD_ORIGIN_SUBDOMAIN,
			      ".example.org", 6, 9);
		assert_origin(&p->origins[2], CORSD_ORIGIN_REGEX,
			      "^https://pr-[0-9]+\\.preview\\.example\\.net$",
			      7, 9);
	} else {
		assert_int_equal(p->origins[0].kind, CORSD_ORIGIN_EXACT);
		assert_string_equal(p->origins[1].text, ".example.org");
		assert_string_equal(
			p->origins[2].text,
			"^https://pr-[0-9]+\\.preview\\.example\\.net$");
	}
	assert_string_equal(p->origins[1].scheme, "https");
	assert_int_equal(p->origins[1].port, CORSD_PORT_DEFAULT);
	assert_list(&p->methods, "GET POST PUT DELETE PATCH");
	assert_list(&p->allow_headers,
		    "Content-Type X-Custom-Header Authorization");
	assert_list(&p->expose_headers, "X-Request-Id");
	assert_false(p->credentials);
	assert_int_equal(p->max_age, 7200);
	assert_false(p->private_network);
	assert_int_equal(p->preflight_status, 204);
	assert_int_equal(p->on_preflight_reject, CORSD_PREFLIGHT_REJECT_DENY);
	assert_int_equal(p->on_origin_reject, CORSD_ORIGIN_REJECT_PASS);
}

/* "null" is listed, so exactly one warning, the origin-null one. */
static void
test_design_example_loads_into_the_documented_model(void **state)
{
	struct corsd_diags d;
	struct corsd_policy_set *set;
	int err;

	(void)state;
	set = load_str(design_example, &d, &err);
	assert_non_null(set);
	assert_int_equal(err, 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].rule, CORSD_RULE_ORIGIN_NULL);
	assert_int_equal(d.v[0].line, 9);
	assert_int_equal(d.v[0].column, 9);
	assert_string_equal(d.file, "test.yaml");
	check_design_model(set, false);
	corsd_policy_set_free(set);
	corsd_diags_release(&d);
}

static void
test_design_example_as_json_loads_the_same_model(void **state)
{
	struct corsd_diags d;
	struct corsd_policy_set *set;
	int err;

	(void)state;
	corsd_diags_init(&d);
	set = corsd_policy_set_load_file(GOOD_DIR "/design-example.json", &d,
					 &err);
	if (!set)
		print_diags(&d);
	assert_non_null(set);
	assert_int_equal(err, 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);
	check_design_model(set, true);
	corsd_policy_set_free(set);
	corsd_diags_release(&d);
}

static void
test_design_example_file_loads_like_the_buffer(void **state)
{
	struct corsd_diags d;
	struct corsd_policy_set *set;
	int err;

	(void)state;
	corsd_diags_init(&d);
	set = corsd_policy_set_load_file(GOOD_DIR "/design-example.yaml", &d,
					 &err);
	assert_non_null(set);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);
	assert_string_equal(d.file, GOOD_DIR "/design-example.yaml");
	check_design_model(set, false);
	corsd_policy_set_free(set);
	corsd_diags_release(&d);
}

static void
test_omitted_keys_take_their_defaults(void **state)
{
	struct corsd_policy_set *set;
	const struct corsd_policy *p;

	(void)state;
	set = load_clean("version: 1\n"
			 "policies:\n"
			 "  bare:\n"
			 "    origins: [https://app.example.com]\n");
	p = policy(set, "bare");
	assert_list(&p->methods, "GET HEAD POST");
	assert_list(&p->allow_headers, "");
	assert_list(&p->expose_headers, "");
	assert_false(p->credentials);
	assert_false(p->private_network);
	assert_int_equal(p->max_age, CORSD_MAX_AGE_UNSET);
	assert_int_equal(p->preflight_status, 204);
	assert_int_equal(p->on_preflight_reject, CORSD_PREFLIGHT_REJECT_DENY);
	assert_int_equal(p->on_origin_reject, CORSD_ORIGIN_REJECT_PASS);
	assert_false(p->origin_any);
	assert_false(p->origin_null);
	assert_int_equal(p->line, 3);
	assert_int_equal(p->column, 3);
	corsd_policy_set_free(set);
}

static void
test_every_setting_is_read(void **state)
{
	struct corsd_policy_set *set;
	const struct corsd_policy *p;

	(void)state;
	set = load_clean(
		"version: 1\n"
		"policies:\n"
		"  all:\n"
		"    on_origin_reject: deny\n"
		"    on_preflight_reject: empty\n"
		"    preflight_status: 200\n"
		"    private_network: TRUE\n"
		"    max_age: 0\n"
		"    credentials: True\n"
		"    origins: [\"http://localhost:*\", "
		"\"https://*.a.example:*\", \"HTTPS://*.B.example:8443\"]\n"
		"  pass:\n"
		"    origins: [https://app.example.com]\n"
		"    on_preflight_reject: pass\n"
		"    max_age: 7200\n");
	p = policy(set, "all");
	assert_int_equal(p->on_origin_reject, CORSD_ORIGIN_REJECT_DENY);
	assert_int_equal(p->on_preflight_reject, CORSD_PREFLIGHT_REJECT_EMPTY);
	assert_int_equal(p->preflight_status, 200);
	assert_true(p->private_network);
	assert_true(p->credentials);
	assert_int_equal(p->max_age, 0);
	assert_int_equal(p->norigins, 3);
	assert_origin(&p->origins[0], CORSD_ORIGIN_ANYPORT, "http://localhost",
		      10, 15);
	assert_int_equal(p->origins[1].kind, CORSD_ORIGIN_SUBDOMAIN);
	assert_string_equal(p->origins[1].text, ".a.example");
	assert_int_equal(p->origins[1].port, CORSD_PORT_ANY);
	assert_string_equal(p->origins[2].text, ".b.example");
	assert_string_equal(p->origins[2].scheme, "https");
	assert_int_equal(p->origins[2].port, 8443);
	p = policy(set, "pass");
	assert_int_equal(p->on_preflight_reject, CORSD_PREFLIGHT_REJECT_PASS);
	assert_int_equal(p->max_age, 7200);
	corsd_policy_set_free(set);
}

struct norm_case {
	const char *in;	  /* the methods value as written */
	const char *want; /* the stored list */
};

static void
test_methods_are_normalised_as_browsers_normalise_them(void **state)
{
	static const struct norm_case cases[] = {
		{"[put]", "PUT"},
		{"[patch]", "patch"},
		{"[PATCH]", "PATCH"},
		{"[get, Head, pOsT, delete, options, Put]",
		 "GET HEAD POST DELETE OPTIONS PUT"},
		{"[patch, PATCH, Patch]", "patch PATCH Patch"},
		{"[put, PUT, Put]", "PUT"},
		{"[GET, get, POST]", "GET POST"},
		{"[\"*\"]", "*"},
		{"\"*\"", "*"},
		{"[PROPFIND, \"*\", GET]", "* PROPFIND GET"},
		{"[x-custom, M-SEARCH]", "x-custom M-SEARCH"},
	};
	char yaml[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct corsd_policy_set *set;

		snprintf(yaml, sizeof(yaml),
			 "version: 1\npolicies:\n  p:\n"
			 "    origins: [https://app.example.com]\n"
			 "    methods: %s\n",
			 cases[i].in);
		set = load_clean(yaml);
		assert_list(&set->v[0].methods, cases[i].want);
		corsd_policy_set_free(set);
	}
}

static void
test_header_names_keep_case_and_drop_duplicates(void **state)
{
	static const struct norm_case cases[] = {
		{"[Content-Type, content-type, CONTENT-TYPE]", "Content-Type"},
		{"[\"*\", Authorization]", "* Authorization"},
		{"[Authorization, \"*\", \"*\"]", "* Authorization"},
		{"\"*\"", "*"},
		{"[x-a, X-B, x-b, X-A]", "x-a X-B"},
		{"[]", ""},
	};
	char yaml[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct corsd_policy_set *set;

		snprintf(yaml, sizeof(yaml),
			 "version: 1\npolicies:\n  p:\n"
			 "    origins: [https://app.example.com]\n"
			 "    allow_headers: %s\n"
			 "    expose_headers: %s\n",
			 cases[i].in, cases[i].in);
		set = load_clean(yaml);
		assert_list(&set->v[0].allow_headers, cases[i].want);
		assert_list(&set->v[0].expose_headers, cases[i].want);
		corsd_policy_set_free(set);
	}
}

static void
test_several_policies_keep_file_order(void **state)
{
	static const char *const names[] = {"zeta", "alpha", "m.i-d_1", "beta"};
	struct corsd_diags d;
	struct corsd_policy_set *set;
	int err;

	(void)state;
	corsd_diags_init(&d);
	set = corsd_policy_set_load_file(GOOD_DIR "/several.yaml", &d, &err);
	if (!set)
		print_diags(&d);
	assert_non_null(set);
	assert_int_equal(d.n, 0);
	assert_int_equal(set->n, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(set->v[i].name, names[i]);
	assert_int_equal(set->v[0].line, 4);
	assert_true(set->v[1].origin_any);
	assert_int_equal(set->v[1].norigins, 0);
	assert_true(set->v[2].credentials);
	assert_true(set->v[2].origin_any);
	assert_int_equal(set->v[2].norigins, 1);
	assert_int_equal(set->v[3].max_age, 600);
	corsd_policy_set_free(set);
	corsd_diags_release(&d);
}

static void
test_every_good_file_loads_without_errors(void **state)
{
	DIR *dir = opendir(GOOD_DIR);
	struct dirent *e;
	size_t files = 0;

	(void)state;
	assert_non_null(dir);
	while ((e = readdir(dir))) {
		char path[512];
		struct corsd_diags d;
		struct corsd_policy_set *set;
		int err;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", GOOD_DIR, e->d_name);
		corsd_diags_init(&d);
		set = corsd_policy_set_load_file(path, &d, &err);
		if (!set) {
			print_diags(&d);
			fail_msg("%s: failed to load (%d)", path, err);
		}
		assert_int_equal(d.errors, 0);
		corsd_policy_set_free(set);
		corsd_diags_release(&d);
		files++;
	}
	closedir(dir);
	assert_true(files >= 3);
}

/* ---- the bad-policy corpus -------------------------------------------- */

struct expect {
	uint32_t line;
	uint32_t column;
	enum corsd_severity sev;
	enum corsd_rule rule;
};

static enum corsd_rule
rule_by_id(const char *id)
{
	for (int r = 0; r < CORSD_RULE__COUNT; r++)
		if (strcmp(corsd_rule_id((enum corsd_rule)r), id) == 0)
			return (enum corsd_rule)r;
	fail_msg("unknown rule id '%s' in an .expect file", id);
	return CORSD_RULE__COUNT;
}

/* Parse NAME.expect; returns the count. */
static size_t
read_expect(const char *path, struct expect *v, size_t max)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t n = 0;

	if (!f)
		fail_msg("%s is missing: every corpus file needs one", path);
	while (fgets(line, sizeof(line), f)) {
		char sev[16], id[64];
		unsigned l, c;

		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (sscanf(line, "%u:%u %15s %63s", &l, &c, sev, id) != 4)
			fail_msg("%s: malformed line '%s'", path, line);
		assert_true(n < max);
		v[n].line = l;
		v[n].column = c;
		if (strcmp(sev, "error") == 0)
			v[n].sev = CORSD_SEV_ERROR;
		else if (strcmp(sev, "warning") == 0)
			v[n].sev = CORSD_SEV_WARNING;
		else
			fail_msg("%s: severity '%s'", path, sev);
		v[n].rule = rule_by_id(id);
		n++;
	}
	fclose(f);
	return n;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted NAME for every NAME.yaml in the corpus. */
static size_t
corpus_names(char **names, size_t max)
{
	DIR *dir = opendir(BAD_DIR);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(dir);
	while ((e = readdir(dir))) {
		size_t len = strlen(e->d_name);

		if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		assert_true(n < max);
		names[n] = strndup(e->d_name, len - 5);
		assert_non_null(names[n]);
		n++;
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp_names);
	return n;
}

static bool
check_corpus_file(const char *name, bool *covered)
{
	char path[512], xpath[512];
	struct expect want[64];
	struct corsd_diags d;
	struct corsd_policy_set *set;
	size_t nwant;
	bool want_error = false, ok = true;
	int err;

	snprintf(path, sizeof(path), "%s/%s.yaml", BAD_DIR, name);
	snprintf(xpath, sizeof(xpath), "%s/%s.expect", BAD_DIR, name);
	nwant = read_expect(xpath, want, 64);
	corsd_diags_init(&d);
	set = corsd_policy_set_load_file(path, &d, &err);
	for (size_t i = 0; i < nwant; i++) {
		want_error |= want[i].sev == CORSD_SEV_ERROR;
		covered[want[i].rule] = true;
	}
	if (d.n != nwant)
		ok = false;
	for (size_t i = 0; ok && i < nwant; i++) {
		const struct corsd_diag *g = &d.v[i];

		ok = g->line == want[i].line && g->column == want[i].column &&
		     g->severity == want[i].sev && g->rule == want[i].rule;
		/* Messages are for people: lower case, never empty. */
		ok = ok && g->message[0] &&
		     !(g->message[0] >= 'A' && g->message[0] <= 'Z');
	}
	if (want_error != (set == NULL) ||
	    err != (want_error ? -CORSD_EPOLICY : 0) ||
	    d.errors + d.warnings != nwant)
		ok = false;
	if (!ok) {
		print_message("%s: want %zu diagnostics (%s):\n", path, nwant,
			      want_error ? "load fails" : "load succeeds");
		for (size_t i = 0; i < nwant; i++)
			print_message("  want: %u:%u %s %s\n", want[i].line,
				      want[i].column,
				      want[i].sev == CORSD_SEV_ERROR
					      ? "error"
					      : "warning",
				      corsd_rule_id(want[i].rule));
		print_message("  got %zu (%s, err %d):\n", d.n,
			      set ? "loaded" : "failed", err);
		print_diags(&d);
	}
	corsd_policy_set_free(set);
	corsd_diags_release(&d);
	return ok;
}

static void
test_bad_corpus_gives_exactly_the_expected_diagnostics(void **state)
{
	char *names[256];
	bool covered[CORSD_RULE__COUNT] = {false};
	size_t n, failed = 0;

	(void)state;
	n = corpus_names(names, 256);
	assert_true(n >= 20);
	for (size_t i = 0; i < n; i++) {
		if (!check_corpus_file(names[i], covered))
			failed++;
		free(names[i]);
	}
	for (int r = 0; r < CORSD_RULE__COUNT; r++)
		if (!covered[r]) {
			print_message("rule '%s' has no corpus file\n",
				      corsd_rule_id((enum corsd_rule)r));
			failed++;
		}
	if (failed)
		fail_msg("%zu corpus checks failed", failed);
}

/* ---- warnings, messages, files ---------------------------------------- */

static void
test_warnings_alone_do_not_fail_a_load(void **state)
{
	struct corsd_diags d;
	struct corsd_policy_set *set;
	int err;

	(void)state;
	set = load_str("version: 1\n"
		       "policies:\n"
		       "  p:\n"
		       "    origins: [\"null\", https://*.github.io, "
		       "https://a.example, https://a.example]\n"
		       "    credentials: true\n"
		       "    credentials: true\n",
		       &d, &err);
	/* The duplicate key is an error: no set. */
	assert_null(set);
	assert_int_equal(err, -CORSD_EPOLICY);
	corsd_diags_release(&d);

	set = load_str("version: 1\n"
		       "policies:\n"
		       "  p:\n"
		       "    origins: [\"null\", https://*.github.io, "
		       "https://a.example, https://a.example]\n"
		       "    methods: \"*\"\n"
		       "    allow_headers: \"*\"\n"
		       "    max_age: 86400\n"
		       "  q:\n"
		       "    origins: [\"*\", https://a.example]\n"
		       "    credentials: true\n"
		       "    methods: [\"*\"]\n",
		       &d, &err);
	if (!set)
		print_diags(&d);
	assert_non_null(set);
	assert_int_equal(err, 0);
	assert_int_equal(d.errors, 0);
	/* null, public suffix, duplicate, cap, reflect in q */
	assert_int_equal(d.warnings, 5);
	assert_int_equal(set->n, 2);
	assert_int_equal(set->v[0].norigins, 2);
	assert_true(set->v[1].origin_any);
	assert_true(set->v[1].methods.wildcard);
	corsd_policy_set_free(set);
	corsd_diags_release(&d);
}

static void
test_messages_say_what_is_wrong_and_quote_the_subject(void **state)
{
	static const struct {
		const char *yaml;
		const char *message;
	} cases[] = {
		{"version: 1\npolicies:\n  api:\n"
		 "    origins: [https://a.example]\n"
		 "    allow_header: [X-A]\n",
		 "unknown key 'allow_header' in policy 'api'; did you mean "
		 "'allow_headers'?"},
		{"verison: 1\npolicies:\n  api:\n"
		 "    origins: [https://a.example]\n",
		 "unknown key 'verison' at the top level; did you mean "
		 "'version'?"},
		{"version: 1\npolicies:\n  api:\n"
		 "    origins: [https://a.example]\n"
		 "    methods: [\"GE\\x01T\"]\n",
		 "method 'GE\\x01T' in policy 'api' is not an HTTP token"},
		{"version: 1\npolicies:\n  api:\n"
		 "    origins: [https://a.example]\n"
		 "    max_age: 86401\n",
		 "max_age 86401 of policy 'api' is out of range; allowed are "
		 "0 to 86400 seconds"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct corsd_diags d;
		struct corsd_policy_set *set;
		int err;

		set = load_str(cases[i].yaml, &d, &err);
		assert_null(set);
		if (d.n < 1)
			fail_msg("case %zu: no diagnostic", i);
		assert_string_equal(d.v[0].message, cases[i].message);
		corsd_diags_release(&d);
	}
}

static void
test_diagnostics_format_with_file_line_column_and_rule(void **state)
{
	struct corsd_diags d;
	char line[512];
	int err;

	(void)state;
	corsd_diags_init(&d);
	assert_null(corsd_policy_set_load_file(BAD_DIR "/version-wrong.yaml",
					       &d, &err));
	assert_int_equal(d.n, 1);
	corsd_diags_format(&d, 0, line, sizeof(line));
	assert_string_equal(line,
			    BAD_DIR "/version-wrong.yaml:1:10: error: "
				    "unsupported version '2' (a number); this "
				    "corsd reads 'version: 1' [version]");
	corsd_diags_release(&d);
}

static void
test_unreadable_file_is_an_io_error_with_a_diagnostic(void **state)
{
	struct corsd_diags d;
	int err = 0;

	(void)state;
	corsd_diags_init(&d);
	assert_null(corsd_policy_set_load_file("tests/data/no-such.yaml", &d,
					       &err));
	assert_int_equal(err, -CORSD_EIO);
	assert_int_equal(d.errors, 1);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.file, "tests/data/no-such.yaml");
	assert_non_null(strstr(d.v[0].message, "cannot read"));
	corsd_diags_release(&d);

	corsd_diags_init(&d);
	assert_null(corsd_policy_set_load_file("tests/data", &d, &err));
	assert_int_equal(err, -CORSD_EIO);
	assert_int_equal(d.errors, 1);
	corsd_diags_release(&d);
}

static void
test_file_larger_than_64_mib_is_refused_unread(void **state)
{
	char path[] = "/tmp/corsd-test-load-XXXXXX";
	struct corsd_diags d;
	int fd, err = 0;
	size_t big = ((size_t)64 << 20) + 1;
	char *buf;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)big), 0);
	close(fd);
	corsd_diags_init(&d);
	assert_null(corsd_policy_set_load_file(path, &d, &err));
	unlink(path);
	assert_int_equal(err, -CORSD_EPOLICY);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].rule, CORSD_RULE_LIMIT);
	corsd_diags_release(&d);

	/* The buffer form checks the length before reading a byte. */
	buf = malloc(big);
	assert_non_null(buf);
	memset(buf, ' ', big);
	corsd_diags_init(&d);
	assert_null(corsd_policy_set_load_buffer("big", buf, big, &d, &err));
	assert_int_equal(err, -CORSD_EPOLICY);
	assert_int_equal(d.v[0].rule, CORSD_RULE_LIMIT);
	corsd_diags_release(&d);
	free(buf);
}

/* ---- bounds and hostile input ----------------------------------------- */

static void
test_more_than_1000_policies_is_a_limit_error(void **state)
{
	size_t size = 1100 * 64, len;
	char *yaml = malloc(size);
	struct corsd_diags d;
	int err;

	(void)state;
	assert_non_null(yaml);
	len = (size_t)snprintf(yaml, size, "version: 1\npolicies:\n");
	for (int i = 1; i <= 1001; i++)
		len += (size_t)snprintf(yaml + len, size - len,
					"  p%d: {origins: [\"*\"]}\n", i);
	assert_null(load_str(yaml, &d, &err));
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].rule, CORSD_RULE_LIMIT);
	assert_int_equal(d.v[0].line, 1003);
	assert_int_equal(d.v[0].column, 3);
	corsd_diags_release(&d);

	/* 1000 is fine. */
	yaml[len - strlen("  p1001: {origins: [\"*\"]}\n")] = '\0';
	corsd_policy_set_free(load_clean(yaml));
	free(yaml);
}

static void
test_more_than_a_million_origins_is_a_limit_error(void **state)
{
	size_t n = 1000001, size = 64 + n * 10, len;
	char *yaml = malloc(size);
	struct corsd_diags d;
	struct corsd_policy_set *set;
	int err;

	(void)state;
	assert_non_null(yaml);
	corsd_diags_init(&d);
	len = (size_t)snprintf(yaml, size,
			       "version: 1\npolicies:\n  p:\n    origins:\n");
	for (size_t i = 0; i < n; i++) {
		memcpy(yaml + len, "    - '*'\n", 10);
		len += 10;
	}
	set = corsd_policy_set_load_buffer("many", yaml, len, &d, &err);
	assert_null(set);
	assert_int_equal(err, -CORSD_EPOLICY);
	assert_int_equal(d.errors, 1);
	/* One per repeated '*'; only the first thousand are kept. */
	assert_int_equal(d.warnings, n - 2);
	assert_true(d.n <= 2002);
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].severity == CORSD_SEV_ERROR) {
			assert_int_equal(d.v[i].rule, CORSD_RULE_LIMIT);
			assert_int_equal(d.v[i].line, 4 + n);
			assert_int_equal(d.v[i].column, 7);
		}
	corsd_diags_release(&d);
	free(yaml);
}

static void
test_rendered_list_fits_2048_bytes_and_no_more(void **state)
{
	char yaml[4096], *at;
	struct corsd_diags d;
	int err;

	(void)state;
	/* 41 names of 48 bytes joined by ", ": 41 * 48 + 40 * 2 = 2048. */
	at = yaml + snprintf(yaml, sizeof(yaml),
			     "version: 1\npolicies:\n  p:\n"
			     "    origins: [https://a.example]\n"
			     "    allow_headers: [");
	for (int i = 0; i < 41; i++)
		at += sprintf(at, "%sX-%046d", i ? ", " : "", i);
	strcpy(at, "]\n");
	corsd_policy_set_free(load_clean(yaml));
	sprintf(at, ", \"*\"]\n");
	assert_null(load_str(yaml, &d, &err));
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].rule, CORSD_RULE_LIMIT);
	corsd_diags_release(&d);
}

struct hostile {
	const char *name;
	const char *p;
	size_t len;
	enum corsd_rule rule; /* a rule among the diagnostics */
};

static void
test_hostile_input_is_answered_not_crashed_on(void **state)
{
	static const char nul_mid[] = "version: 1\npolicies:\0\n  a: b\n";
	static const char nul_quoted[] =
		"version: 1\npolicies:\n  a:\n    origins: "
		"[\"https://a\\0.b\"]\n"
		"    methods: [\"G\\0T\"]\n    \"origins\\0\": x\n";
	static const char utf8[] = "version: 1\npolicies:\n  \xc3\x28: x\n";
	static const char bom16[] = "\xff\xfev\0e\0r\0";
	static const char lone[] = "[";
	static const char alias_bomb[] =
		"a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n";
	static const char dashes[] = "---\n---\n---\n";
	static const char keyonly[] = "? [a, {b: c}]\n";
	static const char bad_escape[] = "version: \"\\xZZ\"\n";
	static const char ctrl[] = "version: 1\x01\n";
	char *nest = malloc(200001), *mb = malloc((1 << 20) + 64);
	struct hostile cases[] = {
		{"nul", nul_mid, sizeof(nul_mid) - 1, CORSD_RULE_YAML_SYNTAX},
		{"nul escapes", nul_quoted, sizeof(nul_quoted) - 1,
		 CORSD_RULE_ORIGIN_SYNTAX},
		{"utf8", utf8, sizeof(utf8) - 1, CORSD_RULE_YAML_SYNTAX},
		{"utf16", bom16, sizeof(bom16) - 1, CORSD_RULE_DOCUMENT},
		{"lone", lone, 1, CORSD_RULE_YAML_SYNTAX},
		{"aliases", alias_bomb, sizeof(alias_bomb) - 1,
		 CORSD_RULE_DOCUMENT},
		{"dashes", dashes, sizeof(dashes) - 1, CORSD_RULE_DOCUMENT},
		{"complex key", keyonly, sizeof(keyonly) - 1, CORSD_RULE_TYPE},
		{"bad escape", bad_escape, sizeof(bad_escape) - 1,
		 CORSD_RULE_YAML_SYNTAX},
		{"control", ctrl, sizeof(ctrl) - 1, CORSD_RULE_YAML_SYNTAX},
		{"empty", "", 0, CORSD_RULE_DOCUMENT},
		{"deep", nest, 200000, CORSD_RULE_LIMIT},
		{"1 MB scalar", mb, 0, CORSD_RULE_LIMIT},
	};
	size_t mblen;

	(void)state;
	assert_non_null(nest);
	assert_non_null(mb);
	memset(nest, '[', 100000);
	memset(nest + 100000, ']', 100000);
	mblen = (size_t)sprintf(mb, "version: 1\npolicies:\n  p:\n    x: ");
	memset(mb + mblen, 'a', 1 << 20);
	mblen += 1 << 20;
	cases[12].len = mblen;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct corsd_str s = guard_copy(cases[i].p, cases[i].len);
		struct corsd_diags d;
		struct corsd_policy_set *set;
		bool found = false;
		int err;

		corsd_diags_init(&d);
		set = corsd_policy_set_load_buffer(cases[i].name, s.p, s.len,
						   &d, &err);
		for (size_t j = 0; j < d.n; j++)
			found |= d.v[j].rule == cases[i].rule;
		if (set || d.errors == 0 || err != -CORSD_EPOLICY || !found) {
			print_diags(&d);
			fail_msg("%s: want a failed load reporting %s",
				 cases[i].name, corsd_rule_id(cases[i].rule));
		}
		corsd_diags_release(&d);
	}
	free(nest);
	free(mb);
	guard_release_all();
}

/* Every prefix of a good file ends at a guard page: no read past it. */
static void
test_every_prefix_of_a_policy_is_read_in_bounds(void **state)
{
	size_t len = sizeof(design_example) - 1;

	(void)state;
	for (size_t n = 0; n <= len; n++) {
		struct corsd_str s = guard_copy(design_example, n);
		struct corsd_diags d;
		struct corsd_policy_set *set;
		int err;

		corsd_diags_init(&d);
		set = corsd_policy_set_load_buffer("prefix", s.p, s.len, &d,
						   &err);
		assert_true((set != NULL) == (d.errors == 0));
		corsd_policy_set_free(set);
		corsd_diags_release(&d);
		if (n % 256 == 0)
			guard_release_all();
	}
	guard_release_all();
}

static void
test_random_mutations_never_crash(void **state)
{
	size_t len = sizeof(design_example) - 1;
	char *buf = malloc(len);
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	assert_non_null(buf);
	for (int round = 0; round < 3000; round++) {
		struct corsd_diags d;
		struct corsd_policy_set *set;
		struct corsd_str s;
		int err;

		memcpy(buf, design_example, len);
		for (int k = 0; k < 1 + round % 8; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[(x >> 8) % len] = (char)(x >> 40);
		}
		s = guard_copy(buf, len);
		corsd_diags_init(&d);
		set = corsd_policy_set_load_buffer("fuzz", s.p, s.len, &d,
						   &err);
		assert_true((set != NULL) == (d.errors == 0));
		corsd_policy_set_free(set);
		corsd_diags_release(&d);
		if (round % 256 == 0)
			guard_release_all();
	}
	guard_release_all();
	free(buf);
}

static void
test_null_arguments_are_refused(void **state)
{
	struct corsd_policy_set *set;
	int err = 0;

	(void)state;
	assert_null(corsd_policy_set_load_buffer("x", NULL, 5, NULL, &err));
	assert_int_equal(err, -CORSD_EINVAL);
	assert_null(corsd_policy_set_load_file(NULL, NULL, &err));
	assert_int_equal(err, -CORSD_EINVAL);
	/* No diagnostics list: the load still works and still fails. */
	set = corsd_policy_set_load_buffer("x", "version: 2", 10, NULL, &err);
	assert_null(set);
	assert_int_equal(err, -CORSD_EPOLICY);
	corsd_policy_set_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_design_example_loads_into_the_documented_model),
		cmocka_unit_test(
			test_design_example_as_json_loads_the_same_model),
		cmocka_unit_test(
			test_design_example_file_loads_like_the_buffer),
		cmocka_unit_test(test_omitted_keys_take_their_defaults),
		cmocka_unit_test(test_every_setting_is_read),
		cmocka_unit_test(
			test_methods_are_normalised_as_browsers_normalise_them),
		cmocka_unit_test(
			test_header_names_keep_case_and_drop_duplicates),
		cmocka_unit_test(test_several_policies_keep_file_order),
		cmocka_unit_test(test_every_good_file_loads_without_errors),
		cmocka_unit_test(
			test_bad_corpus_gives_exactly_the_expected_diagnostics),
		cmocka_unit_test(test_warnings_alone_do_not_fail_a_load),
		cmocka_unit_test(
			test_messages_say_what_is_wrong_and_quote_the_subject),
		cmocka_unit_test(
			test_diagnostics_format_with_file_line_column_and_rule),
		cmocka_unit_test(
			test_unreadable_file_is_an_io_error_with_a_diagnostic),
		cmocka_unit_test(
			test_file_larger_than_64_mib_is_refused_unread),
		cmocka_unit_test(test_more_than_1000_policies_is_a_limit_error),
		cmocka_unit_test(
			test_more_than_a_million_origins_is_a_limit_error),
		cmocka_unit_test(
			test_rendered_list_fits_2048_bytes_and_no_more),
		cmocka_unit_test(test_hostile_input_is_answered_not_crashed_on),
		cmocka_unit_test(
			test_every_prefix_of_a_policy_is_read_in_bounds),
		cmocka_unit_test(test_random_mutations_never_crash),
		cmocka_unit_test(test_null_arguments_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
