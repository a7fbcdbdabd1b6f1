/*
 * test_origin.c - origins: the serialised-origin recogniser, configured
 * entries, regex origins and the public-suffix lint.
 *
 * Layer: tests.  Table-driven, one row per reason, every expectation
 * written by hand from origin_int.h and DESIGN.md sections 2 and 3.
 * Every parser input and every regex subject goes through guard_str() or
 * guard_copy(), so a read one byte past the end faults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>

#include "origin_int.h"
#include "testutil.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static bool
str_is(struct corsd_str s, const char *want)
{
	size_t n = strlen(want);

	return s.len == n && (n == 0 || memcmp(s.p, want, n) == 0);
}

/* A literal and its length, as two fields of a row: rows may hold NULs. */
#define B(lit) (lit), sizeof(lit) - 1

/* "https://" + labels of 'a' separated by dots, @total bytes in all. */
static char *
long_origin(const char *scheme, size_t total)
{
	size_t at = strlen(scheme) + 3, label = 0;
	char *s = malloc(total + 1);

	assert_non_null(s);
	assert_true(total > at);
	sprintf(s, "%s://", scheme);
	for (size_t i = at; i < total; i++) {
		/* Labels of at most 63, never ending the host in a dot. */
		if (label == 63 && i + 1 < total) {
			s[i] = '.';
			label = 0;
		} else {
			s[i] = 'a';
			label++;
		}
	}
	s[total] = '\0';
	return s;
}

/* ---- corsd_origin_parse_serialized(): accepted ------------------------ */

static const struct {
	const char *in;
	const char *scheme;
	const char *host;
	const char *port;
	const char *no_port;
} serialized_ok[] = {
	{"https://a.example.org", "https", "a.example.org", "",
	 "https://a.example.org"},
	{"http://localhost:8080", "http", "localhost", "8080",
	 "http://localhost"},
	{"https://a.example:8443", "https", "a.example", "8443",
	 "https://a.example"},
	{"http://a.example:443", "http", "a.example", "443",
	 "http://a.example"},
	{"https://a.example:80", "https", "a.example", "80",
	 "https://a.example"},
	{"ws://a.example:443", "ws", "a.example", "443", "ws://a.example"},
	{"wss://a.example:80", "wss", "a.example", "80", "wss://a.example"},
	{"http://a_b.example-1.org:65535", "http", "a_b.example-1.org", "65535",
	 "http://a_b.example-1.org"},
	{"http://127.0.0.1:1", "http", "127.0.0.1", "1", "http://127.0.0.1"},
	{"http://[::1]:3000", "http", "[::1]", "3000", "http://[::1]"},
	{"https://[2001:db8::ffff:192.0.2.1]", "https",
	 "[2001:db8::ffff:192.0.2.1]", "",
	 "https://[2001:db8::ffff:192.0.2.1]"},
	{"https://xn--bcher-kva.example", "https", "xn--bcher-kva.example", "",
	 "https://xn--bcher-kva.example"},
	{"chrome-extension://abcdefghijklmnop", "chrome-extension",
	 "abcdefghijklmnop", "", "chrome-extension://abcdefghijklmnop"},
	{"coap+tcp.v2://a:5683", "coap+tcp.v2", "a", "5683", "coap+tcp.v2://a"},
	{"x://y", "x", "y", "", "x://y"},
};

static void
test_serialized_accepts_browser_origins_and_slices_them(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(serialized_ok); i++) {
		struct corsd_str in = guard_str(serialized_ok[i].in);
		struct corsd_origin_view v;

		memset(&v, 0xa5, sizeof(v));
		if (!corsd_origin_parse_serialized(in, &v))
			fail_msg("'%s' was rejected", serialized_ok[i].in);
		if (!str_is(v.scheme, serialized_ok[i].scheme) ||
		    !str_is(v.host, serialized_ok[i].host) ||
		    !str_is(v.port, serialized_ok[i].port) ||
		    !str_is(v.no_port, serialized_ok[i].no_port))
			fail_msg("'%s': scheme '%.*s' host '%.*s' port '%.*s' "
				 "no_port '%.*s'",
				 serialized_ok[i].in, (int)v.scheme.len,
				 v.scheme.p, (int)v.host.len, v.host.p,
				 (int)v.port.len, v.port.p ? v.port.p : "",
				 (int)v.no_port.len, v.no_port.p);
		/* The slices are views into the input, not copies. */
		assert_ptr_equal(v.scheme.p, in.p);
		assert_ptr_equal(v.no_port.p, in.p);
		assert_ptr_equal(v.host.p, in.p + v.scheme.len + 3);
		if (v.port.len)
			assert_ptr_equal(v.port.p, in.p + in.len - v.port.len);
	}
}

/* ---- corsd_origin_parse_serialized(): rejected ------------------------ */

static const struct {
	const char *why;
	const char *in;
	size_t len;
} serialized_bad[] = {
	{"empty", B("")},
	{"the opaque origin", B("null")},
	{"a bare wildcard", B("*")},
	{"uppercase host", B("https://A.example.org")},
	{"uppercase scheme", B("HTTPS://a.example.org")},
	{"uppercase IPv6 literal", B("http://[::FFFF:1]")},
	{"default port on https", B("https://a.example.org:443")},
	{"default port on http", B("http://a.example.org:80")},
	{"default port on ws", B("ws://a.example.org:80")},
	{"default port on wss", B("wss://a.example.org:443")},
	{"trailing slash", B("https://a.example.org/")},
	{"a path", B("https://a.example.org/x")},
	{"a query", B("https://a.example.org?x=1")},
	{"an empty query", B("https://a.example.org?")},
	{"a fragment", B("https://a.example.org#x")},
	{"userinfo", B("https://u@a.example.org")},
	{"userinfo with a password", B("https://u:p@a.example.org")},
	{"a space inside", B("https://a.example .org")},
	{"a leading space", B(" https://a.example.org")},
	{"a trailing space", B("https://a.example.org ")},
	{"a tab", B("https://a.example.org\t")},
	{"CR LF", B("https://a.example.org\r\n")},
	{"a NUL byte", B("https://a.example.org\0x")},
	{"a DEL byte", B("https://a.exam\x7fple.org")},
	{"two values with a comma", B("https://a.com, https://b.com")},
	{"two values without space", B("https://a.com,https://b.com")},
	{"two values with a space", B("https://a.com https://b.com")},
	{"empty host", B("https://")},
	{"empty host with a port", B("https://:8080")},
	{"empty port", B("https://a.example.org:")},
	{"port 0", B("https://a.example.org:0")},
	{"port with a leading zero", B("https://a.example.org:08443")},
	{"port above 65535", B("https://a.example.org:65536")},
	{"port with six digits", B("https://a.example.org:100000")},
	{"port with a letter", B("https://a.example.org:80a")},
	{"port that wraps 32 bits to 8443",
	 B("https://a.example.org:4294975739")},
	{"port wildcard", B("https://a.example.org:*")},
	{"non-ASCII host", B("https://b\xc3\xbc"
			     "cher.example")},
	{"a byte of 0x80", B("https://a\x80.example")},
	{"leading dot in host", B("https://.a.example")},
	{"trailing dot in host", B("https://a.example.")},
	{"empty label in host", B("https://a..example")},
	{"a single dot as host", B("https://.")},
	{"percent in host", B("https://a%2e.example")},
	{"wildcard label", B("https://*.a.example")},
	{"one slash", B("https:/a.example")},
	{"no colon", B("https//a.example")},
	{"empty scheme", B("://a.example")},
	{"scheme starting with a digit", B("1https://a.example")},
	{"scheme with an underscore", B("ht_tp://a.example")},
	{"no scheme", B("a.example.org")},
	{"host:port without scheme", B("localhost:8080")},
	{"empty IPv6 literal", B("http://[]")},
	{"unclosed IPv6 literal", B("http://[::1")},
	{"IPv6 literal with a bad digit", B("http://[::g]")},
	{"bytes after an IPv6 literal", B("http://[::1]x")},
};

static void
test_serialized_rejects_each_malformed_origin(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(serialized_bad); i++) {
		struct corsd_str in =
			guard_copy(serialized_bad[i].in, serialized_bad[i].len);
		struct corsd_origin_view v;

		if (corsd_origin_parse_serialized(in, &v))
			fail_msg("accepted %s: '%.*s'", serialized_bad[i].why,
				 (int)in.len, in.p);
	}
}

static void
test_serialized_rejects_absent_input(void **state)
{
	struct corsd_str none = {NULL, 0};
	struct corsd_origin_view v;

	(void)state;
	assert_false(corsd_origin_parse_serialized(none, &v));
	assert_false(corsd_origin_parse_serialized(
		guard_str("https://a.example"), NULL));
}

static void
test_serialized_accepts_origin_max_bytes_and_rejects_one_more(void **state)
{
	char *at_max = long_origin("https", CORSD_ORIGIN_MAX);
	char *over = long_origin("https", CORSD_ORIGIN_MAX + 1);
	struct corsd_origin_view v;

	(void)state;
	assert_true(corsd_origin_parse_serialized(guard_str(at_max), &v));
	assert_int_equal(v.no_port.len, CORSD_ORIGIN_MAX);
	assert_false(corsd_origin_parse_serialized(guard_str(over), &v));
	free(at_max);
	free(over);
}

/* ---- corsd_origin_pattern_parse(): classification and normal form ----- */

static const struct {
	const char *in;
	enum corsd_origin_kind kind;
	const char *text;
	const char *scheme;
	int32_t port;
} pattern_ok[] = {
	{"*", CORSD_ORIGIN_ANY, "*", "", CORSD_PORT_DEFAULT},
	{"null", CORSD_ORIGIN_NULL, "null", "", CORSD_PORT_DEFAULT},
	{"https://app.example.com", CORSD_ORIGIN_EXACT,
	 "https://app.example.com", "https", CORSD_PORT_DEFAULT},
	{"HTTPS://App.Example.COM", CORSD_ORIGIN_EXACT,
	 "https://app.example.com", "https", CORSD_PORT_DEFAULT},
	{"https://a.example:443", CORSD_ORIGIN_EXACT, "https://a.example",
	 "https", CORSD_PORT_DEFAULT},
	{"http://a.example:80/", CORSD_ORIGIN_EXACT, "http://a.example", "http",
	 CORSD_PORT_DEFAULT},
	{"ws://a.example:80", CORSD_ORIGIN_EXACT, "ws://a.example", "ws",
	 CORSD_PORT_DEFAULT},
	{"wss://a.example:443", CORSD_ORIGIN_EXACT, "wss://a.example", "wss",
	 CORSD_PORT_DEFAULT},
	{"http://localhost:8080/", CORSD_ORIGIN_EXACT, "http://localhost:8080",
	 "http", 8080},
	{"https://a.example:80", CORSD_ORIGIN_EXACT, "https://a.example:80",
	 "https", 80},
	{"http://a.example:443", CORSD_ORIGIN_EXACT, "http://a.example:443",
	 "http", 443},
	{"https://a.example:65535", CORSD_ORIGIN_EXACT,
	 "https://a.example:65535", "https", 65535},
	{"http://[::FFFF:7f00:1]:8080", CORSD_ORIGIN_EXACT,
	 "http://[::ffff:7f00:1]:8080", "http", 8080},
	{"https://xn--bcher-kva.example", CORSD_ORIGIN_EXACT,
	 "https://xn--bcher-kva.example", "https", CORSD_PORT_DEFAULT},
	{"Chrome-Extension://abcdef", CORSD_ORIGIN_EXACT,
	 "chrome-extension://abcdef", "chrome-extension", CORSD_PORT_DEFAULT},
	{"https://*.example.org", CORSD_ORIGIN_SUBDOMAIN, ".example.org",
	 "https", CORSD_PORT_DEFAULT},
	{"HTTP://*.Example.ORG/", CORSD_ORIGIN_SUBDOMAIN, ".example.org",
	 "http", CORSD_PORT_DEFAULT},
	{"https://*.example.org:*", CORSD_ORIGIN_SUBDOMAIN, ".example.org",
	 "https", CORSD_PORT_ANY},
	{"https://*.example.org:8443", CORSD_ORIGIN_SUBDOMAIN, ".example.org",
	 "https", 8443},
	{"https://*.example.org:443", CORSD_ORIGIN_SUBDOMAIN, ".example.org",
	 "https", CORSD_PORT_DEFAULT},
	{"http://*.localhost", CORSD_ORIGIN_SUBDOMAIN, ".localhost", "http",
	 CORSD_PORT_DEFAULT},
	{"http://localhost:*", CORSD_ORIGIN_ANYPORT, "http://localhost", "http",
	 CORSD_PORT_ANY},
	{"HTTP://LocalHost:*/", CORSD_ORIGIN_ANYPORT, "http://localhost",
	 "http", CORSD_PORT_ANY},
	{"http://[::1]:*", CORSD_ORIGIN_ANYPORT, "http://[::1]", "http",
	 CORSD_PORT_ANY},
	{"~^https://pr-[0-9]+\\.preview\\.example\\.net$", CORSD_ORIGIN_REGEX,
	 "^https://pr-[0-9]+\\.preview\\.example\\.net$", "",
	 CORSD_PORT_DEFAULT},
	{"~^A|B$", CORSD_ORIGIN_REGEX, "^A|B$", "", CORSD_PORT_DEFAULT},
};

static void
test_pattern_classifies_and_normalises_each_entry(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(pattern_ok); i++) {
		struct corsd_origin_pattern out;
		enum corsd_rule rule = CORSD_RULE__COUNT;
		char msg[CORSD_DIAG_MESSAGE_MAX] = "";
		int rc;

		memset(&out, 0xa5, sizeof(out));
		out.line = 7;
		out.column = 9;
		rc = corsd_origin_pattern_parse(guard_str(pattern_ok[i].in),
						&out, &rule, msg, sizeof(msg));
		if (rc)
			fail_msg("'%s': %d %s", pattern_ok[i].in, rc, msg);
		if (out.kind != pattern_ok[i].kind ||
		    strcmp(out.text, pattern_ok[i].text) != 0 ||
		    out.text_len != strlen(pattern_ok[i].text) ||
		    strcmp(out.scheme, pattern_ok[i].scheme) != 0 ||
		    out.scheme_len != strlen(pattern_ok[i].scheme) ||
		    out.port != pattern_ok[i].port)
			fail_msg("'%s': kind %d text '%s' scheme '%s' port %d",
				 pattern_ok[i].in, (int)out.kind, out.text,
				 out.scheme, (int)out.port);
		/* Line and column belong to the caller. */
		assert_int_equal(out.line, 7);
		assert_int_equal(out.column, 9);
		free(out.text);
	}
}

/* The loader compares incoming Origins byte for byte with canonical
 * forms, so each must be what a browser would send. */
static void
test_pattern_exact_canonical_forms_are_serialised_origins(void **state)
{
	size_t checked = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(pattern_ok); i++) {
		struct corsd_origin_pattern out;
		struct corsd_origin_view v;
		enum corsd_rule rule;
		char msg[CORSD_DIAG_MESSAGE_MAX];

		if (pattern_ok[i].kind != CORSD_ORIGIN_EXACT)
			continue;
		assert_int_equal(corsd_origin_pattern_parse(
					 guard_str(pattern_ok[i].in), &out,
					 &rule, msg, sizeof(msg)),
				 0);
		if (!corsd_origin_parse_serialized(
			    guard_copy(out.text, out.text_len), &v))
			fail_msg("'%s' is not serialised", out.text);
		free(out.text);
		checked++;
	}
	assert_true(checked >= 10);
}

static void
test_pattern_measures_length_on_the_canonical_form(void **state)
{
	char *at_max = long_origin("https", CORSD_ORIGIN_MAX);
	char *over = long_origin("https", CORSD_ORIGIN_MAX + 1);
	/* Longer than the bound as written, within it once normalised. */
	char *loud = malloc(CORSD_ORIGIN_MAX + 6);
	struct corsd_origin_pattern out;
	enum corsd_rule rule = CORSD_RULE__COUNT;
	char msg[CORSD_DIAG_MESSAGE_MAX] = "";

	(void)state;
	assert_non_null(loud);
	memcpy(loud, "HTTPS", 5);
	memcpy(loud + 5, at_max + 5, CORSD_ORIGIN_MAX - 5);
	memcpy(loud + CORSD_ORIGIN_MAX, ":443/", 6);

	assert_int_equal(corsd_origin_pattern_parse(guard_str(at_max), &out,
						    &rule, msg, sizeof(msg)),
			 0);
	assert_int_equal(out.text_len, CORSD_ORIGIN_MAX);
	free(out.text);

	assert_int_equal(corsd_origin_pattern_parse(guard_str(loud), &out,
						    &rule, msg, sizeof(msg)),
			 0);
	assert_string_equal(out.text, at_max);
	free(out.text);

	assert_int_equal(corsd_origin_pattern_parse(guard_str(over), &out,
						    &rule, msg, sizeof(msg)),
			 -CORSD_EINVAL);
	assert_int_equal(rule, CORSD_RULE_ORIGIN_SYNTAX);
	assert_null(out.text);
	assert_non_null(strstr(msg, "is longer than 320 bytes"));
	/* The subject is cut short so that what is wrong still fits. */
	assert_non_null(strstr(msg, "origin 'https://aaaa"));
	assert_non_null(strstr(msg, "...'"));
	free(at_max);
	free(over);
	free(loud);
}

/* ---- corsd_origin_pattern_parse(): errors ----------------------------- */

static const struct {
	const char *in;
	size_t len;
	enum corsd_rule rule;
	const char *what;   /* part of the message that says what is wrong */
	const char *quoted; /* NULL: the entry itself, in quotes */
} pattern_bad[] = {
	{B(""), CORSD_RULE_ORIGIN_SYNTAX, "is empty", "origin ''"},
	{B("https://a.example/x"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has a path; only scheme://host[:port] is allowed", NULL},
	{B("https://a.example//"), CORSD_RULE_ORIGIN_SYNTAX, "has a path",
	 NULL},
	{B("https://a.example?x=1"), CORSD_RULE_ORIGIN_SYNTAX, "has a query",
	 NULL},
	{B("https://a.example/?"), CORSD_RULE_ORIGIN_SYNTAX, "has a query",
	 NULL},
	{B("https://a.example#top"), CORSD_RULE_ORIGIN_SYNTAX, "has a fragment",
	 NULL},
	{B("https://u@a.example"), CORSD_RULE_ORIGIN_SYNTAX, "has userinfo",
	 NULL},
	{B("https://u:p@a.example:8443"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has userinfo", NULL},
	{B("https://b\xc3\xbc"
	   "cher.example"),
	 CORSD_RULE_ORIGIN_SYNTAX,
	 "has a non-ASCII host; write it in punycode (xn--...)",
	 "origin 'https://b\\xc3\\xbccher.example'"},
	{B("https://a\x80.example"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has a non-ASCII host", "origin 'https://a\\x80.example'"},
	{B("a.example.com"), CORSD_RULE_ORIGIN_SYNTAX, "has no scheme", NULL},
	{B("localhost:8080"), CORSD_RULE_ORIGIN_SYNTAX, "has no scheme", NULL},
	{B("//a.example"), CORSD_RULE_ORIGIN_SYNTAX, "has no scheme", NULL},
	{B("*.example.org"), CORSD_RULE_ORIGIN_SYNTAX, "has no scheme", NULL},
	{B("NULL"), CORSD_RULE_ORIGIN_SYNTAX, "has no scheme", NULL},
	{B("1http://a.example"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has an invalid scheme", NULL},
	{B("ht_tp://a.example"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has an invalid scheme", NULL},
	{B("abcdefghijklmnopqrstuvwxyzabcdefg://a.example"),
	 CORSD_RULE_ORIGIN_SYNTAX, "has a scheme longer than 32 bytes", NULL},
	{B("https://"), CORSD_RULE_ORIGIN_SYNTAX, "has an empty host", NULL},
	{B("https://:8080"), CORSD_RULE_ORIGIN_SYNTAX, "has an empty host",
	 NULL},
	{B("https:///"), CORSD_RULE_ORIGIN_SYNTAX, "has an empty host", NULL},
	{B("https://a.example:"), CORSD_RULE_ORIGIN_SYNTAX, "has a bad port",
	 NULL},
	{B("https://a.example:0"), CORSD_RULE_ORIGIN_SYNTAX, "has a bad port",
	 NULL},
	{B("https://a.example:65536"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has a bad port", NULL},
	{B("https://a.example:100000"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has a bad port", NULL},
	{B("https://a.example:08443"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has a bad port", NULL},
	{B("https://a.example:8a"), CORSD_RULE_ORIGIN_SYNTAX, "has a bad port",
	 NULL},
	{B("https://a.example:8*"), CORSD_RULE_ORIGIN_SYNTAX, "has a bad port",
	 NULL},
	{B("https://a.example:443:*"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has a bad port", NULL},
	{B("https://a .example"), CORSD_RULE_ORIGIN_SYNTAX,
	 "contains whitespace or a control byte", NULL},
	{B(" https://a.example"), CORSD_RULE_ORIGIN_SYNTAX,
	 "contains whitespace or a control byte", NULL},
	{B("https://a.example\n"), CORSD_RULE_ORIGIN_SYNTAX,
	 "contains whitespace or a control byte",
	 "origin 'https://a.example\\x0a'"},
	{B("https://a.\x01"
	   "example"),
	 CORSD_RULE_ORIGIN_SYNTAX, "contains whitespace or a control byte",
	 "origin 'https://a.\\x01example'"},
	{B("https://a.example\0"), CORSD_RULE_ORIGIN_SYNTAX,
	 "contains whitespace or a control byte",
	 "origin 'https://a.example\\x00'"},
	{B("https://a*.example.org"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has a misplaced '*'", NULL},
	{B("https://*example.org"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has a misplaced '*'", NULL},
	{B("https://*"), CORSD_RULE_ORIGIN_SYNTAX, "has a misplaced '*'", NULL},
	{B("https://a.*.example.org"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has a misplaced '*'", NULL},
	{B("https://*.*.example.org"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has a misplaced '*'", NULL},
	{B("https://example.*"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has a misplaced '*'", NULL},
	{B("*://a.example"), CORSD_RULE_ORIGIN_SYNTAX, "has an invalid scheme",
	 NULL},
	{B("https://*.127.0.0.1"), CORSD_RULE_ORIGIN_SYNTAX,
	 "puts a subdomain wildcard on an IP address", NULL},
	{B("https://*.[::1]"), CORSD_RULE_ORIGIN_SYNTAX,
	 "puts a subdomain wildcard on an IP address", NULL},
	{B("https://*."), CORSD_RULE_ORIGIN_SYNTAX,
	 "has an empty label in its host", NULL},
	{B("https://.example.org"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has an empty label in its host", NULL},
	{B("https://a..example.org"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has an empty label in its host", NULL},
	{B("https://a.example.org."), CORSD_RULE_ORIGIN_SYNTAX,
	 "has an empty label in its host", NULL},
	{B("https://a%41.example"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has an invalid character '%' in its host", NULL},
	{B("https://a\\b.example"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has an invalid character '\\\\' in its host",
	 "origin 'https://a\\\\b.example'"},
	{B("http://[::1"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has an invalid IPv6 address", NULL},
	{B("http://[]"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has an invalid IPv6 address", NULL},
	{B("http://[::g]"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has an invalid IPv6 address", NULL},
	{B("http://[::1]x"), CORSD_RULE_ORIGIN_SYNTAX,
	 "has an invalid IPv6 address", NULL},
	{B("~https://x"), CORSD_RULE_ORIGIN_REGEX_ANCHOR,
	 "is not anchored; write it as ^...$", "regex origin '~https://x'"},
	{B("~^https://x"), CORSD_RULE_ORIGIN_REGEX_ANCHOR, "is not anchored",
	 "regex origin '~^https://x'"},
	{B("~https://x$"), CORSD_RULE_ORIGIN_REGEX_ANCHOR, "is not anchored",
	 "regex origin '~https://x$'"},
	{B("~^https://x\\$"), CORSD_RULE_ORIGIN_REGEX_ANCHOR, "is not anchored",
	 "regex origin '~^https://x\\\\$'"},
	{B("~"), CORSD_RULE_ORIGIN_REGEX_ANCHOR, "is not anchored",
	 "regex origin '~'"},
	{B("~^https://(x$"), CORSD_RULE_ORIGIN_REGEX_COMPILE,
	 "does not compile", "regex origin '~^https://(x$'"},
};

static void
test_pattern_reports_each_error_with_rule_and_quoted_entry(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(pattern_bad); i++) {
		struct corsd_origin_pattern out;
		enum corsd_rule rule = CORSD_RULE__COUNT;
		char msg[CORSD_DIAG_MESSAGE_MAX] = "";
		char quoted[CORSD_DIAG_MESSAGE_MAX];
		int rc;

		if (pattern_bad[i].quoted)
			snprintf(quoted, sizeof(quoted), "%s",
				 pattern_bad[i].quoted);
		else
			snprintf(quoted, sizeof(quoted), "origin '%.*s'",
				 (int)pattern_bad[i].len, pattern_bad[i].in);
		memset(&out, 0xa5, sizeof(out));
		rc = corsd_origin_pattern_parse(
			guard_copy(pattern_bad[i].in, pattern_bad[i].len), &out,
			&rule, msg, sizeof(msg));
		if (rc != -CORSD_EINVAL || rule != pattern_bad[i].rule)
			fail_msg("'%s': rc %d rule %s msg '%s'", quoted, rc,
				 corsd_rule_id(rule), msg);
		assert_null(out.text);
		/* The subject comes first, then what is wrong with it. */
		if (strncmp(msg, quoted, strlen(quoted)) != 0 ||
		    !strstr(msg, pattern_bad[i].what))
			fail_msg("%s: message '%s'", quoted, msg);
	}
}

static void
test_pattern_regex_compile_error_names_pcre2_message_and_offset(void **state)
{
	struct corsd_origin_pattern out;
	enum corsd_rule rule;
	char msg[CORSD_DIAG_MESSAGE_MAX] = "";

	(void)state;
	assert_int_equal(corsd_origin_pattern_parse(guard_str("~^a[b$"), &out,
						    &rule, msg, sizeof(msg)),
			 -CORSD_EINVAL);
	assert_int_equal(rule, CORSD_RULE_ORIGIN_REGEX_COMPILE);
	/* PCRE2's own words for an unclosed class, and where it ended. */
	assert_non_null(strstr(msg, "missing terminating ] for character "
				    "class at offset 5"));
}

static void
test_pattern_tolerates_missing_message_buffer(void **state)
{
	struct corsd_origin_pattern out;
	enum corsd_rule rule = CORSD_RULE__COUNT;

	(void)state;
	assert_int_equal(corsd_origin_pattern_parse(guard_str("https://a/x"),
						    &out, &rule, NULL, 0),
			 -CORSD_EINVAL);
	assert_int_equal(rule, CORSD_RULE_ORIGIN_SYNTAX);
	assert_int_equal(corsd_origin_pattern_parse(guard_str("~a"), &out, NULL,
						    NULL, 0),
			 -CORSD_EINVAL);
}

/* ---- regexes ------------------------------------------------------------ */

static struct corsd_regex *
regex(const char *pat)
{
	struct corsd_str p = guard_str(pat);
	enum corsd_rule rule = CORSD_RULE__COUNT;
	char msg[CORSD_DIAG_MESSAGE_MAX] = "";
	struct corsd_regex *re =
		corsd_regex_new(p.p, p.len, &rule, msg, sizeof(msg));

	if (!re)
		fail_msg("'%s' did not compile: %s", pat, msg);
	return re;
}

static bool
match(const struct corsd_regex *re, const char *s)
{
	struct corsd_str g = guard_str(s);

	return corsd_regex_match(re, g.p, g.len);
}

static const struct {
	const char *pat;
	const char *subject;
	bool match;
} regex_rows[] = {
	/* Both alternatives are held to the whole subject. */
	{"^a|b$", "a", true},
	{"^a|b$", "b", true},
	{"^a|b$", "ab", false},
	{"^a|b$", "xb", false},
	{"^a|b$", "ax", false},
	{"^a|b$", "", false},
	{"^https://pr-[0-9]+\\.preview\\.example\\.net$",
	 "https://pr-12.preview.example.net", true},
	{"^https://pr-[0-9]+\\.preview\\.example\\.net$",
	 "https://pr-.preview.example.net", false},
	{"^https://pr-[0-9]+\\.preview\\.example\\.net$",
	 "https://pr-12.preview.example.net.evil.example", false},
	{"^https://pr-[0-9]+\\.preview\\.example\\.net$",
	 "https://evil.example?https://pr-1.preview.example.net", false},
	{"^https://pr-[0-9]+\\.preview\\.example\\.net$",
	 "https://pr-12.preview.example.net\n", false},
	{"^https://pr-[0-9]+\\.preview\\.example\\.net$",
	 "https://pr-12XpreviewXexampleXnet", false},
	/* Case as written: browsers send lowercase. */
	{"^https://a\\.example$", "https://A.example", false},
	{"^\\\\$", "\\", true},
	{"^$", "", true},
	{"^$", "x", false},
	/* Captures beyond the one-pair ovector still count as a match. */
	{"^(https)://(a)\\.(example)$", "https://a.example", true},
	{"^(https)://(a)\\.(example)$", "https://b.example", false},
	{"^(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true},
	{"^(a|b)\\1$", "aa", true},
	{"^(a|b)\\1$", "ab", false},
};

static void
test_regex_matches_whole_subject_only(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(regex_rows); i++) {
		struct corsd_regex *re = regex(regex_rows[i].pat);

		if (match(re, regex_rows[i].subject) != regex_rows[i].match)
			fail_msg("'%s' on '%s': expected %s", regex_rows[i].pat,
				 regex_rows[i].subject,
				 regex_rows[i].match ? "a match" : "none");
		corsd_regex_free(re);
	}
}

static void
test_regex_reads_only_the_length_given(void **state)
{
	struct corsd_regex *re = regex("^https://a\\.example$");
	struct corsd_str s = guard_str("https://a.examplex");

	(void)state;
	assert_true(corsd_regex_match(re, s.p, s.len - 1));
	assert_false(corsd_regex_match(re, s.p, s.len));
	assert_false(corsd_regex_match(re, s.p, s.len - 2));
	corsd_regex_free(re);
}

static const struct {
	const char *pat;
	size_t len;
	enum corsd_rule rule;
	const char *what;
} regex_bad[] = {
	{B(""), CORSD_RULE_ORIGIN_REGEX_ANCHOR,
	 "regex origin '~' is not anchored; write it as ^...$"},
	{B("a"), CORSD_RULE_ORIGIN_REGEX_ANCHOR,
	 "regex origin '~a' is not anchored"},
	{B("^a"), CORSD_RULE_ORIGIN_REGEX_ANCHOR,
	 "regex origin '~^a' is not anchored"},
	{B("a$"), CORSD_RULE_ORIGIN_REGEX_ANCHOR,
	 "regex origin '~a$' is not anchored"},
	{B("^"), CORSD_RULE_ORIGIN_REGEX_ANCHOR,
	 "regex origin '~^' is not anchored"},
	{B("$^"), CORSD_RULE_ORIGIN_REGEX_ANCHOR,
	 "regex origin '~$^' is not anchored"},
	{B("^a\\$"), CORSD_RULE_ORIGIN_REGEX_ANCHOR,
	 "regex origin '~^a\\\\$' is not anchored"},
	{B("^a\\\\\\$"), CORSD_RULE_ORIGIN_REGEX_ANCHOR,
	 "regex origin '~^a\\\\\\\\\\\\$' is not anchored"},
	{B("^(a$"), CORSD_RULE_ORIGIN_REGEX_COMPILE,
	 "regex origin '~^(a$' does not compile: "},
	{B("^a{2,1}$"), CORSD_RULE_ORIGIN_REGEX_COMPILE,
	 "regex origin '~^a{2,1}$' does not compile: "},
	{B("^a)$"), CORSD_RULE_ORIGIN_REGEX_COMPILE, "does not compile"},
	{B("^*$"), CORSD_RULE_ORIGIN_REGEX_COMPILE, "does not compile"},
	/* 8-bit, never UTF: code points above 0xff are refused. */
	{B("^\\x{100}$"), CORSD_RULE_ORIGIN_REGEX_COMPILE, "does not compile"},
	{B("^(*UTF)a$"), CORSD_RULE_ORIGIN_REGEX_COMPILE, "does not compile"},
};

static void
test_regex_rejects_unanchored_and_uncompilable_patterns(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(regex_bad); i++) {
		struct corsd_str p =
			guard_copy(regex_bad[i].pat, regex_bad[i].len);
		enum corsd_rule rule = CORSD_RULE__COUNT;
		char msg[CORSD_DIAG_MESSAGE_MAX] = "";
		struct corsd_regex *re;

		re = corsd_regex_new(p.p, p.len, &rule, msg, sizeof(msg));
		if (re || rule != regex_bad[i].rule ||
		    !strstr(msg, regex_bad[i].what))
			fail_msg("'%.*s': rule %s msg '%s'",
				 (int)regex_bad[i].len, regex_bad[i].pat,
				 corsd_rule_id(rule), msg);
		if (rule == CORSD_RULE_ORIGIN_REGEX_COMPILE &&
		    !strstr(msg, " at offset "))
			fail_msg("'%s' names no offset", msg);
	}
}

/* Lengths, not NULs, end patterns and subjects. */
static void
test_regex_treats_nul_as_an_ordinary_byte(void **state)
{
	struct corsd_str p = guard_copy("^a\0$", 4);
	struct corsd_regex *re = corsd_regex_new(p.p, p.len, NULL, NULL, 0);
	struct corsd_str s = guard_copy("a\0", 2);

	(void)state;
	assert_non_null(re);
	assert_true(corsd_regex_match(re, s.p, s.len));
	assert_false(corsd_regex_match(re, s.p, 1));
	corsd_regex_free(re);
}

static void
test_regex_catastrophic_backtracking_is_cut_off(void **state)
{
	struct corsd_regex *re = regex("^(a+)+$");
	char s[302];

	(void)state;
	memset(s, 'a', 300);
	s[300] = '\0';
	assert_true(match(re, s));
	s[300] = '!';
	s[301] = '\0';
	assert_false(match(re, s));
	corsd_regex_free(re);
}

/*
 * A match exists here, behind 2^n ways for the first alternative to fail.
 * Four 'a' cost little; eighteen cost hundreds of thousands of steps, far
 * past the match limit but well inside PCRE2's default of ten million, so
 * only corsd's own limit turns this into no match.
 */
static void
test_regex_gives_up_at_the_match_limit(void **state)
{
	struct corsd_regex *re = regex("^(?:(a+)+!|a+)$");

	(void)state;
	assert_true(match(re, "aaaa"));
	assert_false(match(re, "aaaaaaaaaaaaaaaaaa"));
	corsd_regex_free(re);
}

static void
test_regex_never_matches_subject_longer_than_origin_max(void **state)
{
	struct corsd_regex *re = regex("^a*$");
	char s[CORSD_ORIGIN_MAX + 2];
	struct corsd_str g;

	(void)state;
	memset(s, 'a', sizeof(s));
	g = guard_copy(s, CORSD_ORIGIN_MAX);
	assert_true(corsd_regex_match(re, g.p, g.len));
	g = guard_copy(s, CORSD_ORIGIN_MAX + 1);
	assert_false(corsd_regex_match(re, g.p, g.len));
	corsd_regex_free(re);
}

static void
test_regex_handles_null_arguments(void **state)
{
	struct corsd_regex *re = regex("^$");

	(void)state;
	assert_true(corsd_regex_match(re, NULL, 0));
	assert_false(corsd_regex_match(re, NULL, 1));
	assert_false(corsd_regex_match(NULL, "", 0));
	corsd_regex_free(re);
	corsd_regex_free(NULL);
}

#define THREADS	   4
#define ITERATIONS 3000

struct thread_arg {
	const struct corsd_regex *preview;
	const struct corsd_regex *evil;
	const struct corsd_str *subjects;
	const bool *want_preview;
	size_t nsubjects;
	unsigned offset;
	unsigned wrong;
	unsigned matched;
};

static void *
match_thread(void *p)
{
	struct thread_arg *a = p;

	for (unsigned i = 0; i < ITERATIONS; i++) {
		size_t k = (i + a->offset) % a->nsubjects;
		const struct corsd_str *s = &a->subjects[k];
		bool got = corsd_regex_match(a->preview, s->p, s->len);

		a->matched += got;
		a->wrong += got != a->want_preview[k];
		/* Interleave a pattern that always hits its match limit. */
		if (i % 16 == 0)
			a->wrong += corsd_regex_match(a->evil, s->p, s->len);
	}
	return NULL;
}

static void
test_regex_matches_from_many_threads_at_once(void **state)
{
	static const char *const subj[] = {
		"https://pr-1.preview.example.net",
		"https://pr-.preview.example.net",
		"https://pr-123456.preview.example.net",
		"https://pr-1.preview.example.net.evil.example",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
		"https://pr-99.preview.example.net",
	};
	static const bool want[] = {true, false, true, false, false, true};
	struct corsd_str subjects[ARRAY_SIZE(subj)];
	struct corsd_regex *preview =
		regex("^https://pr-[0-9]+\\.preview\\.example\\.net$");
	struct corsd_regex *evil = regex("^(a|aa)+$");
	struct thread_arg args[THREADS];
	pthread_t t[THREADS];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(subj); i++)
		subjects[i] = guard_str(subj[i]);
	for (unsigned i = 0; i < THREADS; i++) {
		args[i] = (struct thread_arg){
			.preview = preview,
			.evil = evil,
			.subjects = subjects,
			.want_preview = want,
			.nsubjects = ARRAY_SIZE(subj),
			.offset = i,
		};
		assert_int_equal(
			pthread_create(&t[i], NULL, match_thread, &args[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(args[i].wrong, 0);
		/* Half the subjects match: the threads really matched. */
		assert_int_equal(args[i].matched, ITERATIONS / 2);
	}
	corsd_regex_free(preview);
	corsd_regex_free(evil);
}

/* ---- public suffixes ---------------------------------------------------- */

static const struct {
	const char *domain;
	bool public;
} psl_rows[] = {
	{"github.io", true},
	{"co.uk", true},
	{"com", true},
	{"example.org", false},
	{"app.example.org", false},
	{"user.github.io", false},
};

static void
test_psl_knows_public_suffixes_from_registrable_domains(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(psl_rows); i++) {
		struct corsd_str d = guard_str(psl_rows[i].domain);

		if (corsd_origin_suffix_is_public(d.p, d.len) !=
		    psl_rows[i].public)
			fail_msg("'%s' should %sbe a public suffix",
				 psl_rows[i].domain,
				 psl_rows[i].public ? "" : "not ");
	}
}

static void
test_psl_reads_only_the_length_given(void **state)
{
	struct corsd_str d = guard_str("example.org");

	(void)state;
	/* "org" is public; "example.org" is not. */
	assert_true(corsd_origin_suffix_is_public(d.p + 8, 3));
	assert_false(corsd_origin_suffix_is_public(d.p, d.len));
	/* "github.io" cut to "github.i" is nothing at all. */
	d = guard_str("github.io");
	assert_false(corsd_origin_suffix_is_public(d.p, d.len - 1));
	assert_false(corsd_origin_suffix_is_public(d.p, 0));
	assert_false(corsd_origin_suffix_is_public(NULL, 3));
	assert_false(corsd_origin_suffix_is_public("co\0uk", 5));
}

static int
teardown(void **state)
{
	(void)state;
	guard_release_all();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_serialized_accepts_browser_origins_and_slices_them),
		cmocka_unit_test(test_serialized_rejects_each_malformed_origin),
		cmocka_unit_test(test_serialized_rejects_absent_input),
		cmocka_unit_test(
			test_serialized_accepts_origin_max_bytes_and_rejects_one_more),
		cmocka_unit_test(
			test_pattern_classifies_and_normalises_each_entry),
		cmocka_unit_test(
			test_pattern_exact_canonical_forms_are_serialised_origins),
		cmocka_unit_test(
			test_pattern_measures_length_on_the_canonical_form),
		cmocka_unit_test(
			test_pattern_reports_each_error_with_rule_and_quoted_entry),
		cmocka_unit_test(
			test_pattern_regex_compile_error_names_pcre2_message_and_offset),
		cmocka_unit_test(test_pattern_tolerates_missing_message_buffer),
		cmocka_unit_test(test_regex_matches_whole_subject_only),
		cmocka_unit_test(test_regex_reads_only_the_length_given),
		cmocka_unit_test(
			test_regex_rejects_unanchored_and_uncompilable_patterns),
		cmocka_unit_test(test_regex_treats_nul_as_an_ordinary_byte),
		cmocka_unit_test(
			test_regex_catastrophic_backtracking_is_cut_off),
		cmocka_unit_test(test_regex_gives_up_at_the_match_limit),
		cmocka_unit_test(
			test_regex_never_matches_subject_longer_than_origin_max),
		cmocka_unit_test(test_regex_handles_null_arguments),
		cmocka_unit_test(test_regex_matches_from_many_threads_at_once),
		cmocka_unit_test(
			test_psl_knows_public_suffixes_from_registrable_domains),
		cmocka_unit_test(test_psl_reads_only_the_length_given),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
