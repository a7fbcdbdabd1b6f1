/*
 * cache_int.h - the shared decision cache: keys, lookups, inserts.
 *
 * Layer: ipc, internal.  Lookups run in workers against a PROT_READ
 * mapping; inserts run in corsd's serving threads only.  Entries are
 * seqlocks holding the full key (a hash match alone never answers), the
 * generation of the snapshot that decided and an expiry; an entry of an
 * older generation, or past its expiry, is a miss.
 */
#ifndef CORSD_CACHE_INT_H
#define CORSD_CACHE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "abi_int.h"
#include "corsd_types.h"

/*
 * The request as it crosses shared memory: every field cut to one byte
 * past the engine's bound, which decides exactly as the whole value would.
 * Worker and corsd key the cache on this clipped form, so their keys agree.
 */
void corsd_wire_clip(const struct corsd_request *in, struct corsd_request *out);

/* Whether corsd_cache_insert() keeps @ans at all: not with max-age 0,
 * not when its block does not fit an entry.  Checked before a key is
 * built for it. */
static inline bool
corsd_cache_wants(const struct corsd_answer *ans)
{
	return ans->max_age != 0 && ans->block_len <= CORSD_CACHE_BLOCK_MAX;
}

/*
 * Key of a (clipped) request: only what the answer depends on.  An actual
 * request's answer depends on (policy, origin) alone; a preflight's also
 * on ACRM, ACRH and whether private network access was asked.
 * Return: the key length, or 0 when the key does not fit (not cached).
 */
size_t corsd_cache_key(const struct corsd_request *req,
		       char key[CORSD_CACHE_KEY_MAX]);
uint64_t corsd_cache_hash(const char *key, size_t len);

/* Worker side: copy a live answer for @key into @ans.  @generation is the
 * cache header's, read by the caller with acquire order. */
bool corsd_cache_lookup(const struct corsd_cache_hdr *h, const char *key,
			size_t len, uint64_t hash, uint64_t generation,
			uint64_t now_ms, struct corsd_answer *ans);

/* corsd side: remember @ans for at most its max-age, capped by @ttl_ms
 * (which also applies when it has none).  Answers whose block does not fit
 * an entry, and answers with max-age 0, are not cached. */
void corsd_cache_insert(struct corsd_cache_hdr *h, const char *key, size_t len,
			uint64_t hash, uint64_t generation, uint64_t now_ms,
			uint32_t ttl_ms, const struct corsd_answer *ans);

static inline struct corsd_cache_entry *
corsd_cache_set(const struct corsd_cache_hdr *h, uint64_t hash)
{
	return (struct corsd_cache_entry *)((char *)(uintptr_t)h +
					    h->entries_off) +
	       (hash & (h->nsets - 1)) * h->ways;
}

#endif /* CORSD_CACHE_INT_H */
