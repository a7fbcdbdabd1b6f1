/*
 * test_ascii.c - the byte classes, case folding and token table of
 * engine/ascii_int.h.
 *
 * Layer: tests.  Every one of the 256 bytes is checked against the RFC
 * 9110 tchar definition and ASCII case folding written out here by hand,
 * not derived from the table under test; tokens are read from a guard
 * page (guard_copy()), so a read past one faults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ascii_int.h"
#include "testutil.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * RFC 9110 section 5.6.2:
 *   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *           "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 */
static bool
rfc9110_tchar(unsigned c)
{
	static const char specials[] = "!#$%&'*+-.^_`|~";

	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	for (size_t i = 0; i < sizeof(specials) - 1; i++)
		if (c == (unsigned char)specials[i])
			return true;
	return false;
}

/* ASCII case folding: the 26 upper-case letters, and nothing else. */
static unsigned
folded(unsigned c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static void
test_tchar_table_is_rfc9110_tchar_lowercased_for_all_256_bytes(void **state)
{
	unsigned ntchar = 0;

	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		unsigned want = rfc9110_tchar(c) ? folded(c) : 0;

		if (corsd_tchar_lower[c] != want)
			fail_msg("byte 0x%02x: table %u, want %u", c,
				 corsd_tchar_lower[c], want);
		assert_int_equal(corsd_ascii_is_tchar((unsigned char)c),
				 rfc9110_tchar(c));
		ntchar += rfc9110_tchar(c);
	}
	/* 15 specials, 10 digits, 52 letters. */
	assert_int_equal(ntchar, 77);
}

static void
test_lower_folds_only_the_26_upper_case_letters(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		if (corsd_ascii_lower((unsigned char)c) != folded(c))
			fail_msg("byte 0x%02x folds to 0x%02x", c,
				 corsd_ascii_lower((unsigned char)c));
		/* The table and the folding agree on every token byte. */
		if (corsd_tchar_lower[c] &&
		    corsd_tchar_lower[c] != corsd_ascii_lower((unsigned char)c))
			fail_msg("byte 0x%02x: table and folding differ", c);
	}
}

static void
test_byte_classes_match_their_ascii_ranges_for_all_256_bytes(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		unsigned char b = (unsigned char)c;
		bool digit = c >= '0' && c <= '9';
		bool lower = c >= 'a' && c <= 'z';
		bool upper = c >= 'A' && c <= 'Z';
		bool hex = digit || (c >= 'a' && c <= 'f') ||
			   (c >= 'A' && c <= 'F');

		if (corsd_ascii_is_digit(b) != digit ||
		    corsd_ascii_is_lower(b) != lower ||
		    corsd_ascii_is_upper(b) != upper ||
		    corsd_ascii_is_alpha(b) != (lower || upper) ||
		    corsd_ascii_is_hex(b) != hex)
			fail_msg("byte 0x%02x is misclassified", c);
	}
}

static const struct {
	const char *in;
	size_t len;
	bool token;
} tokens[] = {
	{"GET", 3, true},
	{"x-custom-header", 15, true},
	{"!#$%&'*+-.^_`|~09azAZ", 21, true},
	{"a", 1, true},
	{"", 0, false},
	{"a b", 3, false},
	{"a,b", 3, false},
	{"a:b", 3, false},
	{"a\tb", 3, false},
	{"\"a\"", 3, false},
	{"(a)", 3, false},
	{"a\0b", 3, false},
	{"a\x7f", 2, false},
	{"caf\xc3\xa9", 5, false},
};

static void
test_is_token_accepts_one_or_more_tchar_and_nothing_else(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(tokens); i++) {
		struct corsd_str s = guard_copy(tokens[i].in, tokens[i].len);

		if (corsd_ascii_is_token(s.p, s.len) != tokens[i].token)
			fail_msg("row %zu: '%.*s' token %d", i,
				 (int)tokens[i].len, tokens[i].in,
				 !tokens[i].token);
	}
}

static const struct {
	const char *a, *b;
	bool same;
	bool same_nocase;
} pairs[] = {
	{"Content-Type", "content-type", false, true},
	{"X-ABC", "x-abc", false, true},
	{"abc", "abc", true, true},
	{"abc", "abd", false, false},
	{"abc", "ab", false, false},
	{"", "", true, true},
	/* Only A-Z fold: '@' and '`', '[' and '{' are 0x20 apart too. */
	{"@", "`", false, false},
	{"[", "{", false, false},
	{"\xc3\x89", "\xc3\xa9", false, false},
};

static void
test_eq_and_eq_nocase_compare_whole_strings(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		size_t al = strlen(pairs[i].a), bl = strlen(pairs[i].b);
		struct corsd_str a = guard_copy(pairs[i].a, al);
		struct corsd_str b = guard_copy(pairs[i].b, bl);

		if (corsd_ascii_eq(a.p, a.len, pairs[i].b) != pairs[i].same ||
		    corsd_ascii_eq_nocase(a.p, a.len, b.p, b.len) !=
			    pairs[i].same_nocase ||
		    corsd_ascii_eq_nocase(b.p, b.len, a.p, a.len) !=
			    pairs[i].same_nocase)
			fail_msg("row %zu: '%s' vs '%s'", i, pairs[i].a,
				 pairs[i].b);
	}
}

static void
test_lower_copy_folds_every_byte_and_returns_the_end(void **state)
{
	static const char in[] = "HTTPS://A.Example:8443/\xc3\x89@[`{";
	static const char want[] = "https://a.example:8443/\xc3\x89@[`{";
	char out[sizeof(in)];
	struct corsd_str s = guard_copy(in, sizeof(in) - 1);

	(void)state;
	memset(out, 0, sizeof(out));
	assert_ptr_equal(corsd_ascii_lower_copy(out, s.p, s.len),
			 out + sizeof(in) - 1);
	assert_memory_equal(out, want, sizeof(want));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_tchar_table_is_rfc9110_tchar_lowercased_for_all_256_bytes),
		cmocka_unit_test(
			test_lower_folds_only_the_26_upper_case_letters),
		cmocka_unit_test(
			test_byte_classes_match_their_ascii_ranges_for_all_256_bytes),
		cmocka_unit_test(
			test_is_token_accepts_one_or_more_tchar_and_nothing_else),
		cmocka_unit_test(test_eq_and_eq_nocase_compare_whole_strings),
		cmocka_unit_test(
			test_lower_copy_folds_every_byte_and_returns_the_end),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	guard_release_all();
	return rc;
}
