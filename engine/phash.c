/*
 * phash.c - minimal perfect hashing over XXH3, PTHash style.
 *
 * Layer: engine.  Built once per table at snapshot compile, looked up on
 * every decision.  The scheme is PTHash (Pibiri and Trani, "PTHash:
 * Revisiting FCH Minimal Perfect Hashing", SIGIR 2021): keys are hashed
 * with XXH3 into skewed buckets, and each bucket, largest first, gets the
 * first pilot that sends all of its keys to free slots of a table about 2%
 * larger than n; slots at or past n are folded into the holes below n
 * through remap[].
 *
 * The rule: a lookup is one XXH3, four multiplications, the pilot of one
 * bucket and, for about 2% of keys, one remap entry; whatever the key, it
 * never reads outside the compiled form.  Builds are deterministic (a
 * fixed seed sequence), so the same keys always compile to the same bytes.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Inlined into this file: nothing links libxxhash for it. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "phash_int.h"

/*
 * Average keys per bucket.  Pilots cost 32 bits per bucket; larger buckets
 * make the search slower: at alpha 0.98, lambda 5 takes about twice the
 * pilot trials of lambda 4 (measured: ~40 against ~18 per key).
 */
#define PHASH_LAMBDA 4u

/* Load factor alpha = ALPHA_NUM / ALPHA_DEN of the table before remap. */
#define ALPHA_NUM 49u
#define ALPHA_DEN 50u

/*
 * PTHash's skew: about 60% of the keys (h below SKEW_T, ~0.6 * 2^64) go to
 * the first 30% of the buckets.  Large buckets are then placed while the
 * table is still empty, and the many small ones fill the last free slots,
 * where one key finds a hole far sooner than several keys at once.
 */
#define SKEW_T 0x999999999999999aULL

/* Pilots are spread over 64 bits before they touch the key's hash, so that
 * consecutive pilots move every key of a bucket independently. */
#define PILOT_MUL 0x9e3779b97f4a7c15ULL

/*
 * Odd multiplier whose high product bits, the ones fastrange reads, depend
 * on every bit of h ^ pilot.  Without it, two keys of a bucket that agree
 * on their high bits would share a slot under every pilot, since XOR with
 * the pilot keeps that agreement.
 */
#define POS_MUL 0xd6e8feb86659fd93ULL

/* A bucket that no pilot below this places means an unlucky seed. */
#define PILOT_MAX (1u << 20)
/* Seeds tried before giving up with -CORSD_EHASH. */
#define SEED_TRIES 16u
/* Keeps table_size, slots and pilots inside uint32_t. */
#define PHASH_MAX_KEYS (UINT32_MAX / 2)

/* Internal: this seed cannot work, try the next one. */
#define RETRY 1

static inline uint64_t
fastrange64(uint64_t x, uint64_t range)
{
	return (uint64_t)(((unsigned __int128)x * range) >> 64);
}

/*
 * The bucket of hash @h, always < @nbuckets.  Dense keys (h < SKEW_T) map
 * to fastrange(h, nb / 2) < 0.6 * nb / 2 = 0.3 nb.  Sparse keys map to
 * nb - 1 - fastrange(~h, 7 nb / 4), and ~h < 0.4 * 2^64 keeps the
 * fastrange below 0.7 nb, which is at most nb - 1 for nb >= 4 and is 0,
 * <= 1, <= 1 for nb = 1, 2, 3.  Which side a key takes is a coin toss, so
 * it is chosen with masks: a branch here would mispredict on 40% of the
 * lookups.
 */
static inline uint32_t
phash_bucket(uint64_t h, uint32_t nbuckets)
{
	uint64_t nb = nbuckets;
	uint64_t dense = 0 - (uint64_t)(h < SKEW_T);
	uint64_t range = ((nb >> 1) & dense) | (((nb * 7) >> 2) & ~dense);
	uint64_t r = fastrange64(h ^ ~dense, range);

	return (uint32_t)((r & dense) | ((nb - 1 - r) & ~dense));
}

static inline uint64_t
pilot_mix(uint32_t pilot)
{
	return pilot * PILOT_MUL;
}

/* The slot of hash @h under mixed pilot @hp, in [0, table_size). */
static inline uint32_t
phash_position(uint64_t h, uint64_t hp, uint32_t table_size)
{
	return (uint32_t)fastrange64((h ^ hp) * POS_MUL, table_size);
}

static inline uint64_t
phash_hash(const char *p, size_t len, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, len, seed);
}

/* splitmix64's finaliser: well-spread seeds from the attempt number. */
static inline uint64_t
seed_for(unsigned attempt)
{
	uint64_t z = (attempt + 1) * PILOT_MUL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline bool
bit_test(const uint64_t *bits, uint32_t i)
{
	return (bits[i >> 6] >> (i & 63)) & 1;
}

static inline void
bit_set(uint64_t *bits, uint32_t i)
{
	bits[i >> 6] |= 1ULL << (i & 63);
}

static inline void
bit_clear(uint64_t *bits, uint32_t i)
{
	bits[i >> 6] &= ~(1ULL << (i & 63));
}

/*
 * Scratch of one build, reused across seeds.  Fresh pages are a large part
 * of the build time, so it is kept small: the keys are hashed twice rather
 * than keeping a second array of hashes, res->pos holds each key's bucket
 * until the end, and bhash holds each entry's slot once it is placed.
 */
struct build {
	const struct corsd_str *keys;
	uint64_t seed;
	uint32_t n;
	uint32_t nbuckets;
	uint32_t table_size;
	uint32_t maxsize;   /* keys in the largest bucket */
	uint32_t small_cap; /* entries in small */
	uint64_t *bhash;    /* grouped by bucket, key order within one */
	uint32_t *bstart;   /* bucket k is [bstart[k], bstart[k + 1]) */
	uint32_t *order;    /* cursors, then non-empty buckets largest first */
	uint64_t *taken;    /* one bit per table slot */
	uint32_t *small;    /* maxsize + 2 counters, then maxsize slots */
};

static bool
key_eq(const struct corsd_str *a, const struct corsd_str *b)
{
	return a->len == b->len && (a->len == 0 || !memcmp(a->p, b->p, a->len));
}

/*
 * Hash @h turned up twice in @bucket.  The keys behind it are found again
 * by hashing (this happens about once in 2^64 / n^2 builds, or for
 * duplicate keys): equal keys are the caller's error, distinct ones only
 * need another seed.
 */
static int
collision_verdict(const struct build *b, const struct corsd_phash_result *res,
		  uint32_t bucket, uint64_t h)
{
	uint32_t *seen = b->small, nseen = 0;

	for (uint32_t i = 0; i < b->n; i++) {
		const struct corsd_str *k = &b->keys[i];

		if (res->pos[i] != bucket ||
		    phash_hash(k->p, k->len, b->seed) != h)
			continue;
		for (uint32_t j = 0; j < nseen; j++) {
			if (key_eq(&b->keys[seen[j]], k))
				return -CORSD_EINVAL;
		}
		seen[nseen++] = i;
	}
	return RETRY;
}

/*
 * Two keys with one 64-bit hash share a bucket and collide under every
 * pilot, so they must be caught before the search.  Buckets are small
 * (about 5, rarely 30), so pairwise is cheaper than sorting.
 */
static int
check_hash_collisions(const struct build *b,
		      const struct corsd_phash_result *res)
{
	for (uint32_t k = 0; k < b->nbuckets; k++) {
		for (uint32_t i = b->bstart[k]; i < b->bstart[k + 1]; i++) {
			for (uint32_t j = i + 1; j < b->bstart[k + 1]; j++) {
				if (b->bhash[i] == b->bhash[j])
					return collision_verdict(b, res, k,
								 b->bhash[i]);
			}
		}
	}
	return 0;
}

/*
 * Hash every key with b->seed and group the hashes by bucket, stably;
 * res->pos[i] is left holding the bucket of key i.
 */
static int
group_by_bucket(struct build *b, struct corsd_phash_result *res)
{
	const struct corsd_str *keys = b->keys;
	uint32_t nb = b->nbuckets, maxsize = 0, sum = 0;
	uint32_t *cursor = b->order;

	memset(b->bstart, 0, ((size_t)nb + 1) * sizeof(*b->bstart));
	for (uint32_t i = 0; i < b->n; i++) {
		uint64_t h = phash_hash(keys[i].p, keys[i].len, b->seed);
		uint32_t k = phash_bucket(h, nb);

		res->pos[i] = k;
		b->bstart[k]++;
	}
	for (uint32_t k = 0; k < nb; k++) {
		uint32_t c = b->bstart[k];

		if (c > maxsize)
			maxsize = c;
		b->bstart[k] = sum;
		cursor[k] = sum;
		sum += c;
	}
	b->bstart[nb] = sum;
	for (uint32_t i = 0; i < b->n; i++) {
		uint64_t h = phash_hash(keys[i].p, keys[i].len, b->seed);

		b->bhash[cursor[res->pos[i]]++] = h;
	}

	b->maxsize = maxsize;
	if (2 * (size_t)maxsize + 2 > b->small_cap) {
		uint32_t *p = realloc(b->small,
				      (2 * (size_t)maxsize + 2) * sizeof(*p));

		if (!p)
			return -CORSD_ENOMEM;
		b->small = p;
		b->small_cap = 2 * maxsize + 2;
	}
	return 0;
}

/* Counting sort of the non-empty buckets into b->order, largest first;
 * returns how many there are. */
static uint32_t
sort_buckets(struct build *b)
{
	uint32_t *off = b->small, nb = b->nbuckets, sum = 0;

	memset(off, 0, ((size_t)b->maxsize + 2) * sizeof(*off));
	for (uint32_t k = 0; k < nb; k++)
		off[b->bstart[k + 1] - b->bstart[k]]++;
	for (uint32_t s = b->maxsize; s >= 1; s--) {
		uint32_t c = off[s];

		off[s] = sum;
		sum += c;
	}
	for (uint32_t k = 0; k < nb; k++) {
		uint32_t s = b->bstart[k + 1] - b->bstart[k];

		if (s)
			b->order[off[s]++] = k;
	}
	return sum;
}

/*
 * Find a pilot for every bucket, largest first.  Nearly every trial fails,
 * so the first pass only reads the bitmap, and without a branch per key:
 * whether key j collides is a coin toss the branch predictor loses, while
 * "some key collides" is almost always true.  Bits are set only once a
 * pilot looks free, which is also where two keys of the bucket on one slot
 * show up.  On success bhash[j] holds the slot of entry j.
 */
static int
search_pilots(struct build *b, struct corsd_phash_result *res,
	      uint32_t nonempty)
{
	uint64_t *taken = b->taken;
	uint32_t *slots = b->small + b->maxsize + 2;
	uint32_t ts = b->table_size;

	memset(taken, 0, ((size_t)ts + 63) / 64 * sizeof(*taken));
	memset(res->pilots, 0, b->nbuckets * sizeof(*res->pilots));
	for (uint32_t k = 0; k < nonempty; k++) {
		uint32_t bucket = b->order[k];
		uint32_t first = b->bstart[bucket];
		uint32_t size = b->bstart[bucket + 1] - first;
		uint64_t *bh = b->bhash + first;
		uint32_t pilot, j;
		bool any;

		for (pilot = 0; pilot < PILOT_MAX; pilot++) {
			uint64_t hp = pilot_mix(pilot);

			any = 0;
			for (j = 0; j < size; j++) {
				slots[j] = phash_position(bh[j], hp, ts);
				any |= bit_test(taken, slots[j]);
			}
			if (any)
				continue;
			for (j = 0; j < size; j++) {
				if (bit_test(taken, slots[j]))
					break;
				bit_set(taken, slots[j]);
			}
			if (j == size)
				break;
			while (j > 0)
				bit_clear(taken, slots[--j]);
		}
		if (pilot == PILOT_MAX)
			return RETRY;
		res->pilots[bucket] = pilot;
		for (j = 0; j < size; j++)
			bh[j] = slots[j];
	}
	return 0;
}

/*
 * Slots >= n that hold a key are sent, in order, to the holes below n:
 * there are exactly as many of each.  Slots >= n that hold no key go to 0,
 * so that an absent key still gets a slot below n.  Then each key takes
 * its slot: res->pos[i] still names its bucket, and the grouping kept key
 * order within a bucket, so a cursor per bucket finds its entry.
 */
static void
assign_slots(struct build *b, struct corsd_phash_result *res)
{
	uint32_t n = b->n, hole = 0;
	uint32_t *cursor = b->order;

	for (uint32_t s = n; s < b->table_size; s++) {
		if (!bit_test(b->taken, s)) {
			res->remap[s - n] = 0;
			continue;
		}
		while (bit_test(b->taken, hole))
			hole++;
		res->remap[s - n] = hole++;
	}
	memcpy(cursor, b->bstart, b->nbuckets * sizeof(*cursor));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t slot = (uint32_t)b->bhash[cursor[res->pos[i]]++];

		res->pos[i] = slot < n ? slot : res->remap[slot - n];
	}
}

static void
build_release(struct build *b)
{
	free(b->bhash);
	free(b->bstart);
	free(b->order);
	free(b->taken);
	free(b->small);
}

/*
 * An empty table is one slot whose remap entry is 0 == n: the lookup needs
 * no special case and every key gets n.
 */
static int
build_empty(struct corsd_phash_result *res)
{
	res->hdr.seed = seed_for(0);
	res->hdr.n = 0;
	res->hdr.nbuckets = 1;
	res->hdr.table_size = 1;
	res->pilots = calloc(1, sizeof(*res->pilots));
	res->remap = calloc(1, sizeof(*res->remap));
	if (!res->pilots || !res->remap) {
		corsd_phash_result_release(res);
		return -CORSD_ENOMEM;
	}
	return 0;
}

int
corsd_phash_build(const struct corsd_str *keys, size_t n,
		  struct corsd_phash_result *res)
{
	struct build b = {0};
	int rc = -CORSD_EHASH;

	if (!res)
		return -CORSD_EINVAL;
	memset(res, 0, sizeof(*res));
	if (n > PHASH_MAX_KEYS || (n && !keys))
		return -CORSD_EINVAL;
	if (n == 0)
		return build_empty(res);

	b.keys = keys;
	b.n = (uint32_t)n;
	b.nbuckets = (uint32_t)((n + PHASH_LAMBDA - 1) / PHASH_LAMBDA);
	/* ceil(n / alpha) */
	b.table_size = (uint32_t)((n * ALPHA_DEN + ALPHA_NUM - 1) / ALPHA_NUM);

	b.bhash = malloc(n * sizeof(*b.bhash));
	b.bstart = malloc(((size_t)b.nbuckets + 1) * sizeof(*b.bstart));
	b.order = malloc(b.nbuckets * sizeof(*b.order));
	b.taken = malloc(((size_t)b.table_size + 63) / 64 * sizeof(*b.taken));
	res->pilots = malloc(b.nbuckets * sizeof(*res->pilots));
	res->remap = malloc((b.table_size - n) * sizeof(*res->remap));
	res->pos = malloc(n * sizeof(*res->pos));
	if (!b.bhash || !b.bstart || !b.order || !b.taken || !res->pilots ||
	    !res->remap || !res->pos) {
		rc = -CORSD_ENOMEM;
		goto out;
	}

	for (unsigned attempt = 0; attempt < SEED_TRIES; attempt++) {
		b.seed = seed_for(attempt);
		rc = group_by_bucket(&b, res);
		if (rc)
			goto out;
		rc = check_hash_collisions(&b, res);
		if (rc < 0)
			goto out;
		if (rc == 0)
			rc = search_pilots(&b, res, sort_buckets(&b));
		if (rc == RETRY) {
			rc = -CORSD_EHASH;
			continue;
		}
		assign_slots(&b, res);
		res->hdr.seed = b.seed;
		res->hdr.n = b.n;
		res->hdr.nbuckets = b.nbuckets;
		res->hdr.table_size = b.table_size;
		break;
	}
out:
	build_release(&b);
	if (rc)
		corsd_phash_result_release(res);
	return rc;
}

void
corsd_phash_result_release(struct corsd_phash_result *res)
{
	if (!res)
		return;
	free(res->pilots);
	free(res->remap);
	free(res->pos);
	memset(res, 0, sizeof(*res));
}

size_t
corsd_phash_bytes(const struct corsd_phash_result *res)
{
	const struct corsd_phash *h = &res->hdr;
	size_t words = (size_t)h->nbuckets + h->table_size - h->n;

	return (sizeof(*h) + words * sizeof(uint32_t) + 7) & ~(size_t)7;
}

void
corsd_phash_write(const struct corsd_phash_result *res, void *dst)
{
	const struct corsd_phash *h = &res->hdr;
	size_t np = h->nbuckets, nr = (size_t)h->table_size - h->n;
	size_t used = sizeof(*h) + (np + nr) * sizeof(uint32_t);
	unsigned char *p = dst;

	memcpy(p, h, sizeof(*h));
	if (np)
		memcpy(p + sizeof(*h), res->pilots, np * sizeof(uint32_t));
	if (nr)
		memcpy(p + sizeof(*h) + np * sizeof(uint32_t), res->remap,
		       nr * sizeof(uint32_t));
	/* Padding is zeroed so that equal tables are equal bytes. */
	memset(p + used, 0, corsd_phash_bytes(res) - used);
}

/*
 * No check on n here: an empty table carries one bucket and one remap
 * entry (build_empty()), so the same path returns n for it.
 */
uint32_t
corsd_phash_lookup(const struct corsd_phash *ph, const char *key, size_t len)
{
	const uint32_t *pilots = (const uint32_t *)(ph + 1);
	const uint32_t *remap = pilots + ph->nbuckets;
	uint64_t h = phash_hash(key, len, ph->seed);
	uint32_t pilot = pilots[phash_bucket(h, ph->nbuckets)];
	uint32_t slot = phash_position(h, pilot_mix(pilot), ph->table_size);

	if (slot >= ph->n)
		slot = remap[slot - ph->n];
	return slot;
}
