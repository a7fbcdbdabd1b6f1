/*
 * test_diag.c - the words engine messages are made of (engine/diag.c):
 * the quoted subject and the did-you-mean suggestion.
 *
 * Layer: tests.  corsd_quote()'s rule (diag_int.h) row by row, every byte
 * value once, and the cut at CORSD_QUOTE_SHOWN bytes; subjects are read
 * from a guard page (guard_copy()), so a read past one faults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "diag_int.h"
#include "testutil.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *in;
	size_t len;
	const char *want;
} quote_rows[] = {
	{"", 0, ""},
	{"https://a.example", 17, "https://a.example"},
	{" !~'\"%", 6, " !~'\"%"},
	/* Controls and DEL as \xHH, lower-case hex. */
	{"a\nb", 3, "a\\x0ab"},
	{"a\0b", 3, "a\\x00b"},
	{"\x1b[31m", 5, "\\x1b[31m"},
	{"a\x7f", 2, "a\\x7f"},
	/* Bytes 0x80 and up too: the message stays ASCII. */
	{"b\xc3\xbc"
	 "cher",
	 7, "b\\xc3\\xbccher"},
	{"\xff", 1, "\\xff"},
	/* The backslash doubled: "\x41" typed in the file is not 'A'. */
	{"\\", 1, "\\\\"},
	{"\\x41", 4, "\\\\x41"},
	{"^https://a\\.example$", 20, "^https://a\\\\.example$"},
};

static void
test_quote_keeps_printable_ascii_and_escapes_every_other_byte(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(quote_rows); i++) {
		struct corsd_str s =
			guard_copy(quote_rows[i].in, quote_rows[i].len);
		struct corsd_quoted q = corsd_quote(s.p, s.len);

		if (strcmp(q.s, quote_rows[i].want) != 0)
			fail_msg("row %zu: '%s', want '%s'", i, q.s,
				 quote_rows[i].want);
	}
}

static void
test_quote_writes_every_byte_as_one_printable_ascii_form(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		char b = (char)c;
		struct corsd_quoted q = corsd_quote(&b, 1);
		char want[8];

		if (c == '\\')
			snprintf(want, sizeof(want), "\\\\");
		else if (c >= 0x20 && c < 0x7f)
			snprintf(want, sizeof(want), "%c", c);
		else
			snprintf(want, sizeof(want), "\\x%02x", c);
		if (strcmp(q.s, want) != 0)
			fail_msg("byte 0x%02x: '%s', want '%s'", c, q.s, want);
	}
}

static void
test_quote_of_null_and_no_bytes_is_empty(void **state)
{
	(void)state;
	assert_string_equal(corsd_quote(NULL, 0).s, "");
}

static void
test_quote_cuts_long_subjects_at_72_bytes_never_inside_an_escape(void **state)
{
	char in[200], want[200];
	struct corsd_quoted q;

	(void)state;
	/* Exactly CORSD_QUOTE_SHOWN bytes fit whole, one more is cut. */
	memset(in, 'a', sizeof(in));
	q = corsd_quote(guard_copy(in, CORSD_QUOTE_SHOWN).p, CORSD_QUOTE_SHOWN);
	assert_int_equal(strlen(q.s), CORSD_QUOTE_SHOWN);
	assert_null(strstr(q.s, "..."));
	q = corsd_quote(guard_copy(in, CORSD_QUOTE_SHOWN + 1).p,
			CORSD_QUOTE_SHOWN + 1);
	memset(want, 'a', CORSD_QUOTE_SHOWN);
	memcpy(want + CORSD_QUOTE_SHOWN, "...", 4);
	assert_string_equal(q.s, want);

	/* 70 bytes, then a control byte whose escape would end at 74. */
	memset(in, 'a', 70);
	in[70] = '\n';
	q = corsd_quote(guard_copy(in, 71).p, 71);
	memset(want, 'a', 70);
	memcpy(want + 70, "...", 4);
	assert_string_equal(q.s, want);

	/* Only escapes: 18 of 4 bytes fill the 72 exactly. */
	memset(in, '\x01', 100);
	q = corsd_quote(guard_copy(in, 100).p, 100);
	assert_int_equal(strlen(q.s), CORSD_QUOTE_SHOWN + 3);
	assert_string_equal(q.s + CORSD_QUOTE_SHOWN, "...");
	assert_int_equal(strncmp(q.s, "\\x01\\x01", 8), 0);
}

/* The policy keys of load.c, as a loader passes them. */
static const char *const keys[] = {
	"origins",	    "methods",		"allow_headers",
	"expose_headers",   "credentials",	"max_age",
	"private_network",  "preflight_status", "on_preflight_reject",
	"on_origin_reject",
};

static const struct {
	const char *key;
	const char *want; /* NULL: no suggestion */
} dym_rows[] = {
	{"orgins", "origins"},
	{"origin", "origins"},
	{"Origins", "origins"},
	{"ORIGINS", "origins"},
	{"mehtods", "methods"},
	{"allow_header", "allow_headers"},
	{"allowed_headers", "allow_headers"},
	{"maxage", "max_age"},
	{"max-age", "max_age"},
	{"credential", "credentials"},
	{"on_origin_rejects", "on_origin_reject"},
	/* Short keys must be a third right: nothing is near enough. */
	{"max", NULL},
	{"ab", NULL},
	{"", NULL},
	{"headers", NULL},
	{"completely_unrelated", NULL},
	/* Longer than 32 bytes: never compared. */
	{"origins_origins_origins_origins_x", NULL},
};

static void
test_did_you_mean_suggests_the_nearest_known_key_or_nothing(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(dym_rows); i++) {
		const char *k = dym_rows[i].key;
		struct corsd_str s = guard_copy(k, strlen(k));
		const char *got =
			corsd_did_you_mean(s.p, s.len, keys, ARRAY_SIZE(keys));

		if (dym_rows[i].want ? !got || strcmp(got, dym_rows[i].want)
				     : got != NULL)
			fail_msg("'%s': got '%s', want '%s'", k,
				 got ? got : "(none)",
				 dym_rows[i].want ? dym_rows[i].want
						  : "(none)");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_quote_keeps_printable_ascii_and_escapes_every_other_byte),
		cmocka_unit_test(
			test_quote_writes_every_byte_as_one_printable_ascii_form),
		cmocka_unit_test(test_quote_of_null_and_no_bytes_is_empty),
		cmocka_unit_test(
			test_quote_cuts_long_subjects_at_72_bytes_never_inside_an_escape),
		cmocka_unit_test(
			test_did_you_mean_suggests_the_nearest_known_key_or_nothing),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	guard_release_all();
	return rc;
}
