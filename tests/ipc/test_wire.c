/*
 * test_wire.c - the packed request format: corsd_wire_pack() and
 * corsd_wire_unpack() (ipc/abi_int.h), the one writer and the one reader
 * of what a worker puts in its slot.
 *
 * Layer: tests.  A slot is written by a worker corsd does not trust, so
 * the reader is fed hostile headers here: unknown present bits, lengths
 * one past a field's bound, fields that add up past the bytes that are
 * there.  Expectations follow the layout comment in abi_int.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "abi_int.h"

static struct corsd_str
lit(const char *s)
{
	struct corsd_str r = {s, s ? strlen(s) : 0};

	return r;
}

static void
assert_str_equal(struct corsd_str got, struct corsd_str want)
{
	if (!want.p) {
		assert_null(got.p);
		assert_int_equal(got.len, 0);
		return;
	}
	assert_non_null(got.p);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.p, want.p, want.len);
}

static void
test_pack_then_unpack_gives_back_every_field(void **state)
{
	static struct corsd_wire_request w;
	struct corsd_request in = {
		.policy = lit("api"),
		.method = lit("OPTIONS"),
		.origin = lit("https://app.example"),
		.acrm = lit("PUT"),
		.acrh = lit(""), /* present but empty */
		.acrpn = lit(NULL),
	};
	struct corsd_request out;
	size_t n;

	(void)state;
	memset(&w, 0xa5, sizeof(w)); /* a slot's leftovers */
	n = corsd_wire_pack(&w, &in);
	assert_int_equal(n, 3 + 7 + 19 + 3);
	assert_int_equal(w.present, 0x1f); /* acrpn absent */
	assert_int_equal(corsd_wire_unpack(&w, n, &out), (long)n);
	assert_str_equal(out.policy, in.policy);
	assert_str_equal(out.method, in.method);
	assert_str_equal(out.origin, in.origin);
	assert_str_equal(out.acrm, in.acrm);
	assert_str_equal(out.acrh, in.acrh);
	assert_str_equal(out.acrpn, in.acrpn);
}

static void
test_fields_at_their_bounds_fill_the_wire_exactly(void **state)
{
	static struct corsd_wire_request w;
	static char big[CORSD_WIRE_BYTES];
	struct corsd_request in, out;
	size_t at = 0;

	(void)state;
	memset(big, 'a', sizeof(big));
	struct corsd_str *f[CORSD_WIRE__COUNT] = {
		&in.policy, &in.method, &in.origin,
		&in.acrm,   &in.acrh,	&in.acrpn,
	};
	for (int i = 0; i < CORSD_WIRE__COUNT; i++) {
		f[i]->p = big + at;
		f[i]->len = corsd_wire_max((enum corsd_wire_field)i);
		at += f[i]->len;
	}
	assert_int_equal(at, CORSD_WIRE_BYTES);
	assert_int_equal(corsd_wire_pack(&w, &in), CORSD_WIRE_BYTES);
	assert_int_equal(corsd_wire_unpack(&w, CORSD_WIRE_BYTES, &out),
			 (long)CORSD_WIRE_BYTES);
	assert_int_equal(out.acrh.len, CORSD_WIRE_ACRH_MAX);
	assert_ptr_equal(out.acrpn.p,
			 w.bytes + CORSD_WIRE_BYTES - CORSD_WIRE_ACRPN_MAX);
}

/* What a worker could write into its slot's header instead. */
static void
test_unpack_refuses_headers_that_are_no_request(void **state)
{
	static struct corsd_wire_request w;
	struct corsd_request out;

	(void)state;
	for (int i = 0; i < CORSD_WIRE__COUNT; i++) {
		/* One past the field's bound. */
		memset(&w, 0, offsetof(struct corsd_wire_request, bytes));
		w.present = (uint16_t)(1u << i);
		w.len[i] = (uint16_t)(corsd_wire_max((enum corsd_wire_field)i) +
				      1);
		assert_int_equal(corsd_wire_unpack(&w, CORSD_WIRE_BYTES, &out),
				 -1);
		/* At the bound, but past the bytes that arrived. */
		w.len[i]--;
		assert_int_equal(corsd_wire_unpack(&w, w.len[i] - 1u, &out),
				 -1);
		assert_int_equal(corsd_wire_unpack(&w, w.len[i], &out),
				 (long)w.len[i]);
	}
	/* A present bit the format does not have. */
	memset(&w, 0, offsetof(struct corsd_wire_request, bytes));
	w.present = (uint16_t)(1u << CORSD_WIRE__COUNT);
	assert_int_equal(corsd_wire_unpack(&w, CORSD_WIRE_BYTES, &out), -1);
	w.present = 0xffff;
	assert_int_equal(corsd_wire_unpack(&w, CORSD_WIRE_BYTES, &out), -1);
	/* Lengths of absent fields are ignored, never added up. */
	w.present = 1u << CORSD_WIRE_METHOD;
	w.len[CORSD_WIRE_METHOD] = 3;
	w.len[CORSD_WIRE_ACRH] = 0xffff;
	assert_int_equal(corsd_wire_unpack(&w, 3, &out), 3);
	assert_null(out.acrh.p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_then_unpack_gives_back_every_field),
		cmocka_unit_test(
			test_fields_at_their_bounds_fill_the_wire_exactly),
		cmocka_unit_test(
			test_unpack_refuses_headers_that_are_no_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
