/*
 * test_phash.c - the minimal perfect hash of engine/phash.c.
 *
 * Layer: tests.  What phash_int.h promises: n distinct keys go to the
 * slots [0, n), one each; lookup() of key i gives pos[i]; any other key
 * still gets a slot below n; duplicates are refused.  Lookups run on the
 * written form, not on the build result, and that form sits at the end
 * of a mapping followed by a PROT_NONE page, as do the looked-up keys
 * (guard_copy()): a read past either faults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "phash_int.h"
#include "testutil.h"

/* A generated key set: keys[i] points into buf. */
struct keyset {
	struct corsd_str *keys;
	char *buf;
	size_t n;
};

#define KEY_MAX 48

/* Keys PREFIX<i>SUFFIX, distinct by construction; with the prefixes used
 * here, about 30 bytes, like origins. */
static struct keyset
keyset_gen(size_t n, const char *prefix, const char *suffix)
{
	struct keyset ks;

	ks.n = n;
	ks.buf = malloc(n * KEY_MAX + 1);
	ks.keys = calloc(n + 1, sizeof(*ks.keys));
	assert_non_null(ks.buf);
	assert_non_null(ks.keys);
	for (size_t i = 0; i < n; i++) {
		char *p = ks.buf + i * KEY_MAX;
		int len = snprintf(p, KEY_MAX, "%s%zu%s", prefix, i, suffix);

		assert_true(len > 0 && len < KEY_MAX);
		ks.keys[i].p = p;
		ks.keys[i].len = (size_t)len;
	}
	return ks;
}

static void
keyset_free(struct keyset *ks)
{
	free(ks->keys);
	free(ks->buf);
}

/* The written form, ending exactly at a PROT_NONE page. */
struct guarded {
	char *base;
	size_t size;
	const struct corsd_phash *ph;
};

static struct guarded
guarded_write(const struct corsd_phash_result *res)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t bytes = corsd_phash_bytes(res);
	size_t data = (bytes + page - 1) / page * page;
	struct guarded g;
	char *dst;

	g.size = data + page;
	g.base = mmap(NULL, g.size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g.base != MAP_FAILED);
	assert_int_equal(mprotect(g.base + data, page, PROT_NONE), 0);
	/* bytes is a multiple of 8 and pages are aligned: dst is too. */
	dst = g.base + data - bytes;
	corsd_phash_write(res, dst);
	assert_int_equal(mprotect(g.base, data, PROT_READ), 0);
	g.ph = (const struct corsd_phash *)dst;
	return g;
}

static void
guarded_free(struct guarded *g)
{
	munmap(g->base, g->size);
}

static uint32_t
lookup_guarded(const struct corsd_phash *ph, struct corsd_str key)
{
	struct corsd_str k = guard_copy(key.p, key.len);

	return corsd_phash_lookup(ph, k.p, k.len);
}

/*
 * The contract for one key set: a bijection onto [0, n), and lookups on
 * the written form agree with pos[].  Every key is looked up in place,
 * and every @guard_every-th one again from a guard-page copy (a mapping
 * per key is too slow for all of 100,000).
 */
static void
check_minimal_perfect(const struct corsd_str *keys, size_t n,
		      size_t guard_every)
{
	struct corsd_phash_result res;
	struct guarded g;
	unsigned char *seen;

	assert_int_equal(corsd_phash_build(keys, n, &res), 0);
	assert_int_equal(res.hdr.n, n);
	assert_true(res.hdr.table_size >= n);
	assert_true(res.hdr.nbuckets >= 1);

	seen = calloc(n + 1, 1);
	assert_non_null(seen);
	for (size_t i = 0; i < n; i++) {
		assert_true(res.pos[i] < n);
		assert_int_equal(seen[res.pos[i]], 0);
		seen[res.pos[i]] = 1;
	}
	free(seen);

	g = guarded_write(&res);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(
			corsd_phash_lookup(g.ph, keys[i].p, keys[i].len),
			res.pos[i]);
		if (i % guard_every == 0)
			assert_int_equal(lookup_guarded(g.ph, keys[i]),
					 res.pos[i]);
	}
	guarded_free(&g);
	corsd_phash_result_release(&res);
	guard_release_all();
}

static const struct {
	size_t n;
	size_t guard_every;
} sizes[] = {
	{0, 1}, {1, 1}, {2, 1}, {3, 1}, {100, 1}, {1000, 1}, {100000, 97},
};

static void
test_build_maps_n_keys_onto_slots_0_to_n_one_each(void **state)
{
	(void)state;
	for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
		struct keyset ks =
			keyset_gen(sizes[t].n, "https://app-", ".example.com");

		check_minimal_perfect(ks.keys, ks.n, sizes[t].guard_every);
		keyset_free(&ks);
	}
}

/* Every n up to 300 covers the bucket arithmetic of tiny tables, where
 * nbuckets is 1, 2, 3 and the skew's bounds are tightest. */
static void
test_build_works_for_every_n_up_to_300(void **state)
{
	(void)state;
	for (size_t n = 1; n <= 300; n++) {
		struct keyset ks = keyset_gen(n, "k", "");

		check_minimal_perfect(ks.keys, ks.n, 7);
		keyset_free(&ks);
	}
}

static void
test_empty_table_answers_n_for_every_key(void **state)
{
	struct corsd_phash_result res;
	struct guarded g;
	static const char *const probes[] = {
		"",
		"a",
		"https://app.example.com",
		"null",
	};

	(void)state;
	assert_int_equal(corsd_phash_build(NULL, 0, &res), 0);
	assert_int_equal(res.hdr.n, 0);
	assert_null(res.pos);
	g = guarded_write(&res);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		assert_int_equal(lookup_guarded(g.ph, S(probes[i])), 0);
	guarded_free(&g);
	corsd_phash_result_release(&res);
	guard_release_all();
}

static void
test_lookup_of_absent_keys_stays_below_n(void **state)
{
	(void)state;
	for (size_t t = 1; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
		struct keyset ks =
			keyset_gen(sizes[t].n, "https://app-", ".example.com");
		struct keyset absent =
			keyset_gen(2000, "https://absent-", ".example.net");
		struct corsd_phash_result res;
		struct guarded g;

		assert_int_equal(corsd_phash_build(ks.keys, ks.n, &res), 0);
		g = guarded_write(&res);
		for (size_t i = 0; i < absent.n; i++)
			assert_true(lookup_guarded(g.ph, absent.keys[i]) <
				    ks.n);
		/* Neighbours of present keys: one byte shorter, longer. */
		for (size_t i = 0; i < ks.n && i < 500; i++) {
			struct corsd_str k = ks.keys[i];
			char longer[KEY_MAX + 1];

			memcpy(longer, k.p, k.len);
			longer[k.len] = '/';
			k.len--;
			assert_true(lookup_guarded(g.ph, k) < ks.n);
			k.p = longer;
			k.len += 2;
			assert_true(lookup_guarded(g.ph, k) < ks.n);
		}
		guarded_free(&g);
		corsd_phash_result_release(&res);
		keyset_free(&absent);
		keyset_free(&ks);
		guard_release_all();
	}
}

static void
test_build_rejects_duplicate_keys(void **state)
{
	static const struct {
		const char *name;
		const char *keys[5];
		size_t n;
	} cases[] = {
		{"two equal keys", {"a", "a"}, 2},
		{"equal keys apart", {"x", "y", "z", "x"}, 4},
		{"two empty keys", {"", ""}, 2},
		{"three equal keys", {"o", "o", "o"}, 3},
		{"equal origins",
		 {"https://a.example", "https://b.example",
		  "https://a.example"},
		 3},
	};

	(void)state;
	for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
		struct corsd_str keys[5];
		char copies[5][32];
		struct corsd_phash_result res;

		/* Separate copies: equal means equal bytes, not pointers. */
		for (size_t i = 0; i < cases[t].n; i++) {
			keys[i].len = strlen(cases[t].keys[i]);
			memcpy(copies[i], cases[t].keys[i], keys[i].len);
			keys[i].p = copies[i];
		}
		memset(&res, 0xa5, sizeof(res));
		if (corsd_phash_build(keys, cases[t].n, &res) != -CORSD_EINVAL)
			fail_msg("%s: not rejected", cases[t].name);
		assert_null(res.pilots);
		assert_null(res.remap);
		assert_null(res.pos);
		corsd_phash_result_release(&res);
	}
}

/* A duplicate among many keys, placed last, is still found. */
static void
test_build_rejects_one_duplicate_among_100000_keys(void **state)
{
	struct keyset ks = keyset_gen(100001, "https://app-", ".example.com");
	struct corsd_phash_result res;

	(void)state;
	ks.keys[100000] = ks.keys[31337];
	assert_int_equal(corsd_phash_build(ks.keys, ks.n, &res), -CORSD_EINVAL);
	corsd_phash_result_release(&res);
	keyset_free(&ks);
}

static void
test_build_rejects_keys_null_with_n_above_zero(void **state)
{
	struct corsd_phash_result res;

	(void)state;
	assert_int_equal(corsd_phash_build(NULL, 3, &res), -CORSD_EINVAL);
	assert_null(res.pilots);
	corsd_phash_result_release(&res);
}

static void
test_keys_differing_only_in_last_byte_get_distinct_slots(void **state)
{
	static const char prefix[] = "https://api.example.com:844";
	struct corsd_str keys[256];
	char buf[256][sizeof(prefix)];

	(void)state;
	for (size_t i = 0; i < 256; i++) {
		memcpy(buf[i], prefix, sizeof(prefix) - 1);
		buf[i][sizeof(prefix) - 1] = (char)i;
		keys[i].p = buf[i];
		keys[i].len = sizeof(prefix);
	}
	check_minimal_perfect(keys, 256, 1);
}

static void
test_empty_key_is_a_key_like_any_other(void **state)
{
	static const char *const sets[][4] = {
		{""},
		{"", "a"},
		{"a", "", "b", "c"},
	};
	static const size_t counts[] = {1, 2, 4};

	(void)state;
	for (size_t t = 0; t < sizeof(counts) / sizeof(counts[0]); t++) {
		struct corsd_str keys[4];

		for (size_t i = 0; i < counts[t]; i++)
			keys[i] = S(sets[t][i]);
		check_minimal_perfect(keys, counts[t], 1);
	}
}

/* (NULL, 0) is the empty key: it builds, is found as "", and is a
 * duplicate of "". */
static void
test_empty_key_may_have_a_null_pointer(void **state)
{
	struct corsd_str keys[2] = {S(NULL), S("a")};
	struct corsd_phash_result res;
	struct guarded g;

	(void)state;
	assert_int_equal(corsd_phash_build(keys, 2, &res), 0);
	g = guarded_write(&res);
	assert_int_equal(lookup_guarded(g.ph, S("")), res.pos[0]);
	assert_int_equal(corsd_phash_lookup(g.ph, NULL, 0), res.pos[0]);
	guarded_free(&g);
	corsd_phash_result_release(&res);
	guard_release_all();

	keys[1] = S("");
	assert_int_equal(corsd_phash_build(keys, 2, &res), -CORSD_EINVAL);
	corsd_phash_result_release(&res);
}

/* 300-byte keys (past XXH3's 240-byte short path) that differ in one byte,
 * at the front, the middle or the end. */
static void
test_long_keys_that_differ_in_one_byte_get_distinct_slots(void **state)
{
	enum { LEN = 300, N = LEN + 1 };
	char *buf = malloc((size_t)N * LEN);
	struct corsd_str keys[N];

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < N; i++) {
		char *p = buf + i * LEN;

		memset(p, 'a', LEN);
		if (i < LEN)
			p[i] = 'b';
		keys[i].p = p;
		keys[i].len = LEN;
	}
	check_minimal_perfect(keys, N, 1);
	free(buf);
}

/* The written form holds no pointer: a copy anywhere else, with the build
 * result and the first copy gone, answers the same. */
static void
test_written_form_works_after_memcpy_elsewhere(void **state)
{
	struct keyset ks = keyset_gen(5000, "https://app-", ".example.com");
	struct corsd_phash_result res;
	uint32_t *want = malloc(ks.n * sizeof(*want));
	const struct corsd_phash *ph;
	size_t bytes;
	char *first, *second;

	(void)state;
	assert_non_null(want);
	assert_int_equal(corsd_phash_build(ks.keys, ks.n, &res), 0);
	memcpy(want, res.pos, ks.n * sizeof(*want));
	bytes = corsd_phash_bytes(&res);
	first = aligned_alloc(8, bytes);
	assert_non_null(first);
	corsd_phash_write(&res, first);
	corsd_phash_result_release(&res);

	/* Into the middle of a larger buffer, 8-aligned but not 16. */
	second = aligned_alloc(16, (bytes + 8 + 15) & ~(size_t)15);
	assert_non_null(second);
	memcpy(second + 8, first, bytes);
	memset(first, 0xff, bytes);
	free(first);
	ph = (const struct corsd_phash *)(second + 8);
	for (size_t i = 0; i < ks.n; i++)
		assert_int_equal(
			corsd_phash_lookup(ph, ks.keys[i].p, ks.keys[i].len),
			want[i]);
	free(second);
	free(want);
	keyset_free(&ks);
}

/* corsd_phash_bytes() is exact: a multiple of 8, header then arrays, and
 * write() stays inside it. */
static void
test_write_fills_exactly_phash_bytes(void **state)
{
	static const size_t ns[] = {0, 1, 7, 1000};

	(void)state;
	for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
		struct keyset ks = keyset_gen(ns[t], "k-", "");
		struct corsd_phash_result res;
		struct corsd_phash hdr;
		size_t bytes, words;
		unsigned char *buf;

		assert_int_equal(corsd_phash_build(ks.keys, ks.n, &res), 0);
		bytes = corsd_phash_bytes(&res);
		words = res.hdr.nbuckets + res.hdr.table_size - res.hdr.n;
		assert_int_equal(bytes % 8, 0);
		assert_true(bytes >= sizeof(hdr) + words * 4);
		assert_true(bytes < sizeof(hdr) + words * 4 + 8);

		buf = malloc(bytes + 64);
		assert_non_null(buf);
		memset(buf, 0x5a, bytes + 64);
		corsd_phash_write(&res, buf);
		for (size_t i = bytes; i < bytes + 64; i++)
			assert_int_equal(buf[i], 0x5a);
		memcpy(&hdr, buf, sizeof(hdr));
		assert_memory_equal(&hdr, &res.hdr, sizeof(hdr));
		assert_memory_equal(buf + sizeof(hdr), res.pilots,
				    res.hdr.nbuckets * 4);
		assert_memory_equal(buf + sizeof(hdr) + res.hdr.nbuckets * 4,
				    res.remap,
				    (res.hdr.table_size - res.hdr.n) * 4);
		free(buf);
		corsd_phash_result_release(&res);
		keyset_free(&ks);
	}
}

/* Snapshots of one policy must be byte-identical: no randomness. */
static void
test_build_is_deterministic(void **state)
{
	struct keyset ks = keyset_gen(3000, "https://app-", ".example.com");
	struct corsd_phash_result a, b;
	unsigned char *wa, *wb;
	size_t bytes;

	(void)state;
	assert_int_equal(corsd_phash_build(ks.keys, ks.n, &a), 0);
	assert_int_equal(corsd_phash_build(ks.keys, ks.n, &b), 0);
	bytes = corsd_phash_bytes(&a);
	assert_int_equal(bytes, corsd_phash_bytes(&b));
	wa = malloc(bytes);
	wb = malloc(bytes);
	assert_non_null(wa);
	assert_non_null(wb);
	corsd_phash_write(&a, wa);
	corsd_phash_write(&b, wb);
	assert_memory_equal(wa, wb, bytes);
	assert_memory_equal(a.pos, b.pos, ks.n * sizeof(*a.pos));
	free(wa);
	free(wb);
	corsd_phash_result_release(&a);
	corsd_phash_result_release(&b);
	keyset_free(&ks);
}

static void
test_release_is_safe_twice_and_on_a_zeroed_result(void **state)
{
	struct keyset ks = keyset_gen(10, "k", "");
	struct corsd_phash_result res;
	struct corsd_phash_result zero = {0};

	(void)state;
	corsd_phash_result_release(&zero);
	corsd_phash_result_release(NULL);
	assert_int_equal(corsd_phash_build(ks.keys, ks.n, &res), 0);
	corsd_phash_result_release(&res);
	assert_null(res.pilots);
	assert_null(res.remap);
	assert_null(res.pos);
	assert_int_equal(res.hdr.n, 0);
	corsd_phash_result_release(&res);
	keyset_free(&ks);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_build_maps_n_keys_onto_slots_0_to_n_one_each),
		cmocka_unit_test(test_build_works_for_every_n_up_to_300),
		cmocka_unit_test(test_empty_table_answers_n_for_every_key),
		cmocka_unit_test(test_lookup_of_absent_keys_stays_below_n),
		cmocka_unit_test(test_build_rejects_duplicate_keys),
		cmocka_unit_test(
			test_build_rejects_one_duplicate_among_100000_keys),
		cmocka_unit_test(
			test_build_rejects_keys_null_with_n_above_zero),
		cmocka_unit_test(
			test_keys_differing_only_in_last_byte_get_distinct_slots),
		cmocka_unit_test(test_empty_key_is_a_key_like_any_other),
		cmocka_unit_test(test_empty_key_may_have_a_null_pointer),
		cmocka_unit_test(
			test_long_keys_that_differ_in_one_byte_get_distinct_slots),
		cmocka_unit_test(
			test_written_form_works_after_memcpy_elsewhere),
		cmocka_unit_test(test_write_fills_exactly_phash_bytes),
		cmocka_unit_test(test_build_is_deterministic),
		cmocka_unit_test(
			test_release_is_safe_twice_and_on_a_zeroed_result),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
