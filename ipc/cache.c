/*
 * cache.c - the shared decision cache (see cache_int.h).
 *
 * Layer: ipc.  Seqlock discipline (Boehm, "Can seqlocks get along with
 * programming language memory models?", MSPC 2012):
 *
 *   writer (corsd):  seq: even -> odd (CAS, so two serving threads never
 *                    write one entry), release fence W1, data, seq: odd ->
 *                    even with release R1.
 *   reader (worker): seq load acquire A1 (pairs with R1), data, acquire
 *                    fence F1 (pairs with W1), seq reload; a change or an
 *                    odd value is a miss, never a retry loop.
 *
 * The reader's data reads race with a writer by design; what they read is
 * discarded unless seq proves it whole.  xxHash is inlined here too: the
 * client library must not depend on the engine.
 */
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "cache_int.h"
#include "os.h"

static void
clip(struct corsd_str *s, size_t max)
{
	if (s->p && s->len > max)
		s->len = max;
}

void
corsd_wire_clip(const struct corsd_request *in, struct corsd_request *out)
{
	*out = *in;
	clip(&out->policy, CORSD_WIRE_POLICY_MAX);
	clip(&out->method, CORSD_WIRE_METHOD_MAX);
	clip(&out->origin, CORSD_WIRE_ORIGIN_MAX);
	clip(&out->acrm, CORSD_WIRE_ACRM_MAX);
	clip(&out->acrh, CORSD_WIRE_ACRH_MAX);
	clip(&out->acrpn, CORSD_WIRE_ACRPN_MAX);
}

static size_t
put(char *key, size_t at, const void *p, size_t len)
{
	if (at + len > CORSD_CACHE_KEY_MAX)
		return CORSD_CACHE_KEY_MAX + 1;
	memcpy(key + at, p, len);
	return at + len;
}

static size_t
put_str(char *key, size_t at, struct corsd_str s)
{
	uint8_t l[2] = {(uint8_t)(s.len & 0xff), (uint8_t)(s.len >> 8)};

	at = put(key, at, l, 2);
	return s.len ? put(key, at, s.p, s.len) : at;
}

size_t
corsd_cache_key(const struct corsd_request *r, char key[CORSD_CACHE_KEY_MAX])
{
	char kind = 'A';
	size_t at;

	if (!r->origin.p)
		kind = 'N';
	else if (corsd_request_is_preflight(r))
		kind = 'P';

	/* An absent policy and an empty one both name no policy. */
	at = put(key, 0, &kind, 1);
	at = put_str(key, at, r->policy);
	if (kind != 'N')
		at = put_str(key, at, r->origin);
	if (kind == 'P') {
		char pna = r->acrpn.p && r->acrpn.len == 4 &&
			   memcmp(r->acrpn.p, "true", 4) == 0;

		at = put_str(key, at, r->acrm);
		at = put_str(key, at, r->acrh);
		at = put(key, at, &pna, 1);
	}
	return at > CORSD_CACHE_KEY_MAX ? 0 : at;
}

uint64_t
corsd_cache_hash(const char *key, size_t len)
{
	return XXH3_64bits(key, len);
}

bool
corsd_cache_lookup(const struct corsd_cache_hdr *h, const char *key, size_t len,
		   uint64_t hash, uint64_t generation, uint64_t now_ms,
		   struct corsd_answer *ans)
{
	const struct corsd_cache_entry *e = corsd_cache_set(h, hash);

	for (uint32_t w = 0; w < h->ways; w++, e++) {
		uint32_t s1, s2;
		size_t alen;

		/* A1: pairs with R1 in corsd_cache_insert(). */
		s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
		if ((s1 & 1) || e->hash != hash || e->key_len != len ||
		    e->generation != generation || now_ms >= e->expires_ms ||
		    memcmp(e->key, key, len) != 0)
			continue;
		alen = e->answer_len;
		if (alen < offsetof(struct corsd_answer, block) ||
		    alen > CORSD_CACHE_ANSWER_MAX)
			return false;
		memcpy(ans, e->answer, alen);
		/* F1: pairs with W1; the copies above happen before the
		 * re-check below. */
		CORSD_FENCE(memory_order_acquire);
		s2 = atomic_load_explicit(&e->seq, memory_order_relaxed);
		if (s1 != s2)
			return false;
		/* Whole, but checked all the same: nothing read from shared
		 * memory indexes anything unchecked. */
		if (ans->nheaders > CORSD_ANSWER_HEADERS_MAX ||
		    ans->block_len > CORSD_CACHE_BLOCK_MAX ||
		    offsetof(struct corsd_answer, block) + ans->block_len !=
			    alen)
			return false;
		return true;
	}
	return false;
}

void
corsd_cache_insert(struct corsd_cache_hdr *h, const char *key, size_t len,
		   uint64_t hash, uint64_t generation, uint64_t now_ms,
		   uint32_t ttl_ms, const struct corsd_answer *ans)
{
	struct corsd_cache_entry *set = corsd_cache_set(h, hash), *e = NULL;
	size_t alen = offsetof(struct corsd_answer, block) + ans->block_len;
	uint64_t ttl = ttl_ms;
	uint32_t s;

	if (!corsd_cache_wants(ans) || len == 0 || len > CORSD_CACHE_KEY_MAX)
		return;
	if (ans->max_age != CORSD_MAX_AGE_NONE &&
	    (uint64_t)ans->max_age * 1000u < ttl)
		ttl = (uint64_t)ans->max_age * 1000u;

	/* The same key first, then a dead entry, then a victim chosen by
	 * hash bits the set index did not use. */
	for (uint32_t w = 0; w < h->ways && !e; w++)
		if (set[w].hash == hash && set[w].key_len == len &&
		    memcmp(set[w].key, key, len) == 0)
			e = &set[w];
	for (uint32_t w = 0; w < h->ways && !e; w++)
		if (set[w].generation != generation ||
		    now_ms >= set[w].expires_ms)
			e = &set[w];
	if (!e)
		e = &set[(hash >> 48) % h->ways];

	s = atomic_load_explicit(&e->seq, memory_order_relaxed);
	if ((s & 1) || !atomic_compare_exchange_strong_explicit(
			       &e->seq, &s, s + 1, memory_order_relaxed,
			       memory_order_relaxed))
		return; /* another serving thread is writing it */
	/* W1: the odd seq is visible before any byte below; pairs with F1
	 * in corsd_cache_lookup(). */
	CORSD_FENCE(memory_order_release);
	e->hash = hash;
	e->key_len = (uint16_t)len;
	e->generation = generation;
	e->expires_ms = now_ms + ttl;
	memcpy(e->key, key, len);
	e->answer_len = (uint16_t)alen;
	memcpy(e->answer, ans, alen);
	/* R1: publishes the entry; pairs with A1 in corsd_cache_lookup(). */
	atomic_store_explicit(&e->seq, s + 2, memory_order_release);
}
