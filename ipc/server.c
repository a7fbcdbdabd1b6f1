/*
 * server.c - corsd's side of the shared-memory path (see server_int.h).
 *
 * Layer: ipc.  The slots segment is writable by every worker and a
 * worker's slot by that worker, so nothing read from either is trusted:
 * the geometry is corsd's own copy, requests are copied out of the slot,
 * re-checked against req_seq (a torn copy is discarded) and validated,
 * and decide() writes into a private answer that is copied into the slot
 * afterwards.
 *
 * Slots come and go (corsd_server_slot_claim() and _reclaim(), called by
 * the registrar): the table holds slot i's mapping while a worker holds
 * it, NULL otherwise.  A serving thread touches slot i only while it
 * holds slot_busy[i], and looks up the table entry after taking it; the
 * reclaimer clears the entry first and then takes slot_busy[i] itself
 * before it unmaps, so no serving thread is inside a mapping that goes.
 *
 * Memory-order pairings with client.c:
 *   A1 (req_seq load, acquire)  pairs with R1 in round_trip()
 *   F2 (acquire fence) + req_seq reload detect a request torn by its
 *      worker (who may have given up and posted the next one)
 *   R3 (rep_seq store, release) pairs with A2 in round_trip()
 *   F3 (seq_cst fence) before the waiting load pairs with W1/W2
 *   S1/S2 (sleepers increment, pending loads, seq_cst) pair with D1/D2
 *   C1 (pending fetch_and, seq_cst) + the req_seq re-check pair with
 *      R1 + D1: a posting either is seen or sets its bit again
 *   R4 (generation store, release) pairs with A3 in the client
 *   R0 (magic stores, release, last in corsd_server_open()) pairs with
 *      A0 in the client's attach()
 *
 * Among corsd's own threads:
 *   R5 (table entry store, release, in corsd_server_slot_claim()) pairs
 *      with A5 (its load, acquire, in take_request()): a serving thread
 *      that sees the entry sees the mapping made before it.
 *   R6 (slot_busy[i] clear, release, end of take_request()) pairs with
 *      A6 (its test-and-set, acquire, in corsd_server_slot_reclaim()):
 *      everything a serving thread did in the slot happens before the
 *      munmap.  The reclaimer's own clear (R7) pairs with a serving
 *      thread's test-and-set (A7, take_request()): one that takes the
 *      flag after a reclaim sees the NULL entry.  The NULL store itself
 *      can be relaxed: a serving thread that took the flag before it and
 *      still sees the old entry is waited for (A6).
 *   C2 (pending fetch_and for an empty entry, seq_cst, take_request())
 *      + the entry's reload: a worker's D1 comes after its claim's R5,
 *      so either the reload sees the new entry (and the bit goes back)
 *      or the clear came before D1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cache_int.h"
#include "os.h"
#include "server_int.h"

#define SLEEP_NS (100 * 1000000ll) /* re-check *stop this often */
#define PAUSE_NS 2000u /* after work, spin this long before yielding */
/* The answer's lines after rep_seq's: headers, the block's start. */
#define PREFETCH_ANSWER_BYTES 448u
/* How long corsd_server_slot_reclaim() yields to a serving thread that
 * holds the slot: a serving thread's turn is a few decisions long. */
#define RECLAIM_TRIES 1000u

struct corsd_server {
	/* corsd's own copy of the geometry: never re-read from shm. */
	uint32_t nslots;
	uint32_t slot_size; /* a worker's memfd: whole pages */
	uint32_t nwords;
	uint32_t ttl_ms;
	uint64_t spin_ns;
	char cache_name[CORSD_SHM_NAME_MAX];
	char slots_name[CORSD_SHM_NAME_MAX];
	struct corsd_cache_hdr *cache;
	size_t cache_size;
	struct corsd_slots_hdr *slots;
	size_t slots_size;
	/* The slot table (see the top): entry i is slot i's mapping while a
	 * worker holds it, else NULL.  Stored by claim and reclaim, loaded
	 * by serving threads under slot_busy[i]. */
	struct corsd_slot *_Atomic *slot;
	/* Slot i's mapping until it is unmapped; claim and reclaim only
	 * (their caller serialises them, and worker_stats, server_int.h). */
	struct corsd_slot **map;
	/* The counters of slots reclaimed since corsd started. */
	struct corsd_worker_stats retired;
	/* One serving thread per slot and per cache set at a time. */
	atomic_flag *slot_busy;
	atomic_flag *set_busy;
	uint32_t nsets;
};

static size_t
round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

struct corsd_server *
corsd_server_open(const struct corsd_server_config *cfg, int *err)
{
	struct corsd_server *s;
	uint32_t sets = 1;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *map;
	int rc = -CORSD_EINVAL;

	if (!cfg || cfg->nslots == 0 || cfg->nslots > CORSD_SLOTS_MAX ||
	    cfg->cache_entries == 0 ||
	    cfg->cache_entries > CORSD_CACHE_ENTRIES_MAX)
		goto fail;
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = -CORSD_ENOMEM;
		goto fail;
	}
	if (corsd_os_instance_path(s->cache_name, sizeof(s->cache_name),
				   cfg->rundir, cfg->instance, "cache") ||
	    corsd_os_instance_path(s->slots_name, sizeof(s->slots_name),
				   cfg->rundir, cfg->instance, "slots")) {
		free(s);
		goto fail;
	}
	while ((uint64_t)sets * CORSD_CACHE_WAYS < cfg->cache_entries)
		sets *= 2;
	s->nsets = sets;
	s->nslots = cfg->nslots;
	s->slot_size = (uint32_t)round_up(sizeof(struct corsd_slot), page);
	s->nwords = (cfg->nslots + CORSD_PENDING_BITS - 1) / CORSD_PENDING_BITS;
	s->ttl_ms = cfg->cache_ttl_ms;
	s->spin_ns = (uint64_t)cfg->spin_us * 1000u;
	s->slots_size = round_up(sizeof(struct corsd_slots_hdr), page);
	s->cache_size =
		round_up(page + (size_t)sets * CORSD_CACHE_WAYS *
					 sizeof(struct corsd_cache_entry),
			 page);
	s->slot_busy = calloc(s->nslots, sizeof(atomic_flag));
	s->set_busy = calloc(sets, sizeof(atomic_flag));
	s->slot = calloc(s->nslots, sizeof(*s->slot));
	s->map = calloc(s->nslots, sizeof(*s->map));
	if (!s->slot_busy || !s->set_busy || !s->slot || !s->map) {
		rc = -CORSD_ENOMEM;
		goto fail_free;
	}
	for (uint32_t i = 0; i < s->nslots; i++)
		atomic_flag_clear(&s->slot_busy[i]);
	for (uint32_t i = 0; i < sets; i++)
		atomic_flag_clear(&s->set_busy[i]);

	/* 0640: workers of the group map the cache read-only and cannot
	 * reopen it for writing, so none can forge another's answers. */
	rc = corsd_os_shm_create(s->cache_name, s->cache_size, 0640, cfg->gid,
				 &map);
	if (rc)
		goto fail_free;
	s->cache = map;
	rc = corsd_os_shm_create(s->slots_name, s->slots_size, 0660, cfg->gid,
				 &map);
	if (rc) {
		munmap(s->cache, s->cache_size);
		corsd_os_shm_unlink(s->cache_name);
		goto fail_free;
	}
	s->slots = map;

	/* ftruncate() gave zeroed memory: every entry and slot is empty. */
	s->cache->abi_version = CORSD_ABI_VERSION;
	s->cache->hdr_size = sizeof(*s->cache);
	s->cache->epoch = corsd_os_random64();
	s->cache->daemon_pid = (uint32_t)getpid();
	s->cache->daemon_start = corsd_os_pid_start(getpid());
	atomic_store_explicit(&s->cache->state, CORSD_STATE_STARTING,
			      memory_order_relaxed);
	s->cache->nsets = sets;
	s->cache->ways = CORSD_CACHE_WAYS;
	s->cache->entry_size = sizeof(struct corsd_cache_entry);
	s->cache->entries_off = page;
	s->cache->segment_size = s->cache_size;
	s->cache->slots_nslots = s->nslots;
	s->cache->slots_slot_size = s->slot_size;
	s->cache->slots_segment_size = s->slots_size;
	atomic_store_explicit(&s->cache->tick_ms, corsd_os_now_ms(),
			      memory_order_relaxed);

	s->slots->abi_version = CORSD_ABI_VERSION;
	s->slots->nslots = s->nslots;
	s->slots->epoch = s->cache->epoch;
	/* R0: magic numbers last, pairs with A0 in the client's attach():
	 * a worker that sees one sees the rest. */
	atomic_store_explicit(&s->slots->magic, CORSD_SLOTS_MAGIC,
			      memory_order_release);
	atomic_store_explicit(&s->cache->magic, CORSD_CACHE_MAGIC,
			      memory_order_release);
	if (err)
		*err = 0;
	return s;
fail_free:
	free(s->slot_busy);
	free(s->set_busy);
	free(s->slot);
	free(s->map);
	free(s);
fail:
	if (err)
		*err = rc;
	return NULL;
}

void
corsd_server_close(struct corsd_server *s)
{
	if (!s)
		return;
	atomic_store_explicit(&s->cache->state, CORSD_STATE_STOPPED,
			      memory_order_release);
	corsd_os_shm_unlink(s->cache_name);
	corsd_os_shm_unlink(s->slots_name);
	munmap(s->cache, s->cache_size);
	munmap(s->slots, s->slots_size);
	for (uint32_t i = 0; i < s->nslots; i++)
		if (s->map[i])
			munmap(s->map[i], s->slot_size);
	free(s->slot_busy);
	free(s->set_busy);
	free(s->slot);
	free(s->map);
	free(s);
}

void
corsd_server_set_state(struct corsd_server *s, enum corsd_daemon_state state)
{
	atomic_store_explicit(&s->cache->state, state, memory_order_release);
}

void
corsd_server_publish_generation(struct corsd_server *s, uint64_t generation)
{
	/* R4: pairs with A3 in corsd_client_decide(). */
	atomic_store_explicit(&s->cache->generation, generation,
			      memory_order_release);
}

uint64_t
corsd_server_epoch(const struct corsd_server *s)
{
	return s->cache->epoch;
}

void
corsd_server_tick(struct corsd_server *s)
{
	atomic_store_explicit(&s->cache->tick_ms, corsd_os_now_ms(),
			      memory_order_relaxed);
}

/*
 * Copy the slot's request into @w and point @r at the copy: the header
 * first, then only as many bytes as its (checked) lengths add up to.
 * Return: 0; -CORSD_EAGAIN when the worker rewrote it meanwhile;
 * -CORSD_EINVAL when the bytes are not a request.
 */
static int
copy_request(struct corsd_slot *sl, uint32_t seq, struct corsd_wire_request *w,
	     struct corsd_request *r)
{
	long n;
	int rc = 0;

	memcpy(w, &sl->req, offsetof(struct corsd_wire_request, bytes));
	/* Each field within its bound, so all fit in bytes[]. */
	n = corsd_wire_unpack(w, sizeof(w->bytes), r);
	if (n < 0)
		rc = -CORSD_EINVAL;
	else
		memcpy(w->bytes, sl->req.bytes, (size_t)n);
	/* F2: the copies above happen before this re-check. */
	CORSD_FENCE(memory_order_acquire);
	if (atomic_load_explicit(&sl->req_seq, memory_order_relaxed) != seq)
		return -CORSD_EAGAIN;
	return rc;
}

static void
cache_insert(struct corsd_server *s, const struct corsd_request *r,
	     uint64_t gen, const struct corsd_answer *ans,
	     struct corsd_serve_stats *st)
{
	char key[CORSD_CACHE_KEY_MAX];
	size_t klen;
	uint64_t hash;
	uint32_t set;

	/* Before the key is built: the next posting waits for this thread. */
	if (!corsd_cache_wants(ans))
		return;
	klen = corsd_cache_key(r, key);
	if (!klen)
		return;
	hash = corsd_cache_hash(key, klen);
	set = (uint32_t)(hash & (s->nsets - 1));
	if (atomic_flag_test_and_set_explicit(&s->set_busy[set],
					      memory_order_acquire))
		return;
	corsd_cache_insert(s->cache, key, klen, hash, gen, corsd_os_now_ms(),
			   s->ttl_ms, ans);
	atomic_flag_clear_explicit(&s->set_busy[set], memory_order_release);
	atomic_fetch_add_explicit(&st->cache_inserts, 1, memory_order_relaxed);
}

/*
 * Pull the slot's answer lines towards this core for writing while the
 * engine decides: the worker read them last, and the store that
 * publishes rep_seq cannot become visible before they arrive.  Not
 * rep_seq's own line: the worker polls it, and would only take it back.
 */
static void
prefetch_answer(struct corsd_slot *sl)
{
	const char *p = (const char *)sl + offsetof(struct corsd_slot, rep_seq);

	for (size_t off = CORSD_CACHE_LINE; off <= PREFETCH_ANSWER_BYTES;
	     off += CORSD_CACHE_LINE)
		__builtin_prefetch(p + off, 1, 3);
}

/*
 * Write @ans into the slot, the lines the worker is not polling first:
 * the head shares rep_seq's line, which the worker keeps reading, so it
 * is written last, right before rep_seq, and changes owner once.
 */
static void
put_answer(struct corsd_slot *sl, const struct corsd_answer *ans)
{
	size_t n = offsetof(struct corsd_answer, block) + ans->block_len;
	size_t head = CORSD_CACHE_LINE -
		      offsetof(struct corsd_slot, answer) % CORSD_CACHE_LINE;

	_Static_assert(offsetof(struct corsd_answer, block) >=
			       CORSD_CACHE_LINE -
				       offsetof(struct corsd_slot, answer) %
					       CORSD_CACHE_LINE,
		       "every answer reaches past rep_seq's line");

	memcpy((char *)&sl->answer + head, (const char *)ans + head, n - head);
	sl->rc = 0;
	memcpy(&sl->answer, ans, head);
}

static void
count_answer(struct corsd_serve_stats *st, int rc,
	     const struct corsd_answer *ans)
{
	if (rc) {
		atomic_fetch_add_explicit(&st->bad_requests, 1,
					  memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&st->served, 1, memory_order_relaxed);
	if (ans->verdict < CORSD_VERDICT__COUNT)
		atomic_fetch_add_explicit(&st->verdicts[ans->verdict], 1,
					  memory_order_relaxed);
	if (ans->reason < CORSD_REASON__COUNT)
		atomic_fetch_add_explicit(&st->reasons[ans->reason], 1,
					  memory_order_relaxed);
}

/* A request not answered yet: two plain loads, no write. */
static bool
slot_posted(struct corsd_slot *sl)
{
	return atomic_load_explicit(&sl->req_seq, memory_order_relaxed) !=
	       atomic_load_explicit(&sl->rep_seq, memory_order_relaxed);
}

/*
 * Serve slot @i while it has an unanswered request (@only_posted: and
 * only if it has one now, with no write to the pending bitmap when not).
 * Per-thread scratch lives in @w and @ans.  Return: whether it answered
 * anything.
 *
 * The slot's pending bit is cleared after the first answer, not before:
 * the worker waits on the answer, not on the bit, so the locked clear
 * stays off its critical path.  No posting is lost: the clear (C1) comes
 * before the req_seq re-check, and the worker sets the bit after its new
 * req_seq (D1), so either the re-check sees the request or the bit is
 * set again.
 */
static bool
take_request(struct corsd_server *s, uint32_t i, bool only_posted,
	     corsd_server_decide_fn fn, void *ctx, struct corsd_serve_stats *st,
	     struct corsd_wire_request *w, struct corsd_answer *ans)
{
	struct corsd_slot *sl;
	_Atomic uint64_t *word = &s->slots->pending[i / CORSD_PENDING_BITS];
	uint64_t bit = 1ull << (i % CORSD_PENDING_BITS);
	struct corsd_request r;
	uint32_t seq;
	uint64_t gen = 0;
	unsigned rounds = 0, torn = 0;
	bool cleared = false, served = false;
	int rc;

	/* Another thread serves it (or the reclaimer has it): the bit
	 * stays set until that one clears it and looks again, so nothing is
	 * lost by leaving.  A7: pairs with R7 in the reclaim. */
	if (atomic_flag_test_and_set_explicit(&s->slot_busy[i],
					      memory_order_acquire))
		return false;
	/* A5: pairs with R5 in corsd_server_slot_claim(). */
	sl = atomic_load_explicit(&s->slot[i], memory_order_acquire);
	if (!sl) {
		/* A bit with no slot: a reclaimed worker's, or noise a
		 * worker wrote.  C2: clear it, then look at the entry once
		 * more, in case a new worker took the slot and posted. */
		if (!only_posted) {
			atomic_fetch_and_explicit(word, ~bit,
						  memory_order_seq_cst);
			if (atomic_load_explicit(&s->slot[i],
						 memory_order_seq_cst))
				atomic_fetch_or_explicit(word, bit,
							 memory_order_seq_cst);
		}
		goto out;
	}
	if (only_posted && !slot_posted(sl))
		goto out;
	for (;;) {
		/* A1: pairs with R1 in the client's round_trip(). */
		seq = atomic_load_explicit(&sl->req_seq, memory_order_acquire);
		if (seq ==
		    atomic_load_explicit(&sl->rep_seq, memory_order_relaxed)) {
			if (cleared)
				break;
			/* C1: clear, then look once more (see above). */
			atomic_fetch_and_explicit(word, ~bit,
						  memory_order_seq_cst);
			cleared = true;
			continue;
		}
		/* Fairness: a worker that keeps posting (or keeps tearing
		 * its own request) gets its turn again later, after the
		 * others. */
		if (++rounds > 4) {
			if (cleared)
				atomic_fetch_or_explicit(word, bit,
							 memory_order_seq_cst);
			break;
		}
		rc = copy_request(sl, seq, w, &r);
		if (rc == -CORSD_EAGAIN && ++torn < 3) {
			rounds--;
			continue;
		}
		if (rc) {
			sl->rc = rc;
		} else {
			prefetch_answer(sl);
			gen = fn(ctx, &r, ans);
			put_answer(sl, ans);
		}
		/* R3: the answer above is visible before rep_seq. */
		atomic_store_explicit(&sl->rep_seq, seq, memory_order_release);
		served = true;
		/* F3: pairs with W1/W2 in round_trip(). */
		CORSD_FENCE(memory_order_seq_cst);
		if (atomic_load_explicit(&sl->waiting, memory_order_relaxed))
			corsd_os_futex_wake(&sl->rep_seq, 1);
		/* Counted after the answer is out: locked adds before it
		 * would wait for the answer's lines first. */
		count_answer(st, rc, ans);
		if (!rc && gen)
			cache_insert(s, &r, gen, ans, st);
	}
out:
	/* R6: pairs with A6 in corsd_server_slot_reclaim(). */
	atomic_flag_clear_explicit(&s->slot_busy[i], memory_order_release);
	return served;
}

/* Serve every slot whose pending bit is set; *@hot becomes the last
 * slot answered. */
static bool
serve_pending(struct corsd_server *s, corsd_server_decide_fn fn, void *ctx,
	      struct corsd_serve_stats *st, struct corsd_wire_request *w,
	      struct corsd_answer *ans, uint32_t *hot)
{
	bool found = false;

	for (uint32_t wd = 0; wd < s->nwords; wd++) {
		uint64_t bits = atomic_load_explicit(&s->slots->pending[wd],
						     memory_order_relaxed);

		/* Bits past nslots are noise a worker wrote: ignore. */
		if (wd == s->nwords - 1 && s->nslots % CORSD_PENDING_BITS)
			bits &= (1ull << (s->nslots % CORSD_PENDING_BITS)) - 1;
		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);

			bits &= bits - 1;
			uint32_t i = wd * CORSD_PENDING_BITS + b;

			if (take_request(s, i, false, fn, ctx, st, w, ans)) {
				*hot = i;
				found = true;
			}
		}
	}
	return found;
}

static bool
any_pending(const struct corsd_server *s)
{
	for (uint32_t wd = 0; wd < s->nwords; wd++) {
		uint64_t bits = atomic_load_explicit(&s->slots->pending[wd],
						     memory_order_seq_cst);

		/* Bits past nslots are noise: no reason to stay awake. */
		if (wd == s->nwords - 1 && s->nslots % CORSD_PENDING_BITS)
			bits &= (1ull << (s->nslots % CORSD_PENDING_BITS)) - 1;
		if (bits)
			return true;
	}
	return false;
}

void
corsd_server_serve(struct corsd_server *s, corsd_server_decide_fn fn, void *ctx,
		   struct corsd_serve_stats *st, const _Atomic bool *stop)
{
	struct corsd_wire_request *w = malloc(sizeof(*w));
	struct corsd_answer *ans = malloc(sizeof(*ans));
	uint64_t last = corsd_os_now_ns();
	uint32_t hot = UINT32_MAX;
	unsigned idle = 0;

	if (!w || !ans)
		goto out;
	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		uint64_t quiet;
		uint32_t bell;
		bool found;

		/* Watch the slot answered last as well: a busy worker
		 * posts again soon, and its req_seq line reaches us one
		 * transfer sooner than its pending bit and then its request
		 * would.  The bitmap is served in the same round, so a
		 * worker that never stops posting cannot starve others.
		 * The look takes the slot's flag first (take_request()):
		 * the slot may be reclaimed and unmapped at any time. */
		found = hot < s->nslots &&
			take_request(s, hot, true, fn, ctx, st, w, ans);
		if (serve_pending(s, fn, ctx, st, w, ans, &hot) || found) {
			idle = 0;
			last = corsd_os_now_ns();
			continue;
		}
		/* Spin a while after work: the next request of a busy
		 * server comes sooner than a futex round trip. */
		if (++idle & 63) {
			corsd_os_cpu_relax();
			continue;
		}
		quiet = corsd_os_now_ns() - last;
		if (quiet < s->spin_ns) {
			/* Past the first microseconds, spin yielding: the
			 * worker we wait for may be runnable on this CPU. */
			if (quiet >= PAUSE_NS)
				corsd_os_yield();
			continue;
		}
		bell = atomic_load_explicit(&s->slots->doorbell,
					    memory_order_acquire);
		/* S1, S2: say we sleep, then look once more. */
		atomic_fetch_add_explicit(&s->slots->sleepers, 1,
					  memory_order_seq_cst);
		if (!any_pending(s))
			corsd_os_futex_wait(&s->slots->doorbell, bell,
					    SLEEP_NS);
		atomic_fetch_sub_explicit(&s->slots->sleepers, 1,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&st->wakeups, 1,
					  memory_order_relaxed);
		last = corsd_os_now_ns();
	}
out:
	free(w);
	free(ans);
}

void
corsd_server_kick(struct corsd_server *s)
{
	atomic_fetch_add_explicit(&s->slots->doorbell, 1, memory_order_release);
	corsd_os_futex_wake(&s->slots->doorbell, 1 << 30);
}

int
corsd_server_slot_claim(struct corsd_server *s, int *fd, uint32_t *idx)
{
	void *map;
	int rc;

	for (uint32_t i = 0; i < s->nslots; i++) {
		if (s->map[i])
			continue;
		/* Always a new memfd: a worker that held an old one may
		 * still map it. */
		rc = corsd_os_memfd_create(s->slot_size, fd, &map);
		if (rc)
			return rc;
		s->map[i] = map;
		/* R5: the mapping before the entry; pairs with A5. */
		atomic_store_explicit(&s->slot[i], map, memory_order_release);
		*idx = i;
		return 0;
	}
	return -CORSD_EAGAIN;
}

/* Add slot @sl's counters to @out. */
static void
add_worker_stats(struct corsd_worker_stats *out, const struct corsd_slot *sl)
{
#define CORSD_STAT_WORKER(name, doc) \
	out->name += atomic_load_explicit(&sl->n_##name, memory_order_relaxed);
#include "tbl_stats.h"
	for (int b = 0; b < CORSD_LAT_BUCKETS; b++)
		out->lat[b] +=
			atomic_load_explicit(&sl->lat[b], memory_order_relaxed);
}

int
corsd_server_slot_reclaim(struct corsd_server *s, uint32_t idx)
{
	struct corsd_slot *sl;
	unsigned tries = 0;

	if (idx >= s->nslots || !s->map[idx])
		return -CORSD_EINVAL;
	sl = s->map[idx];
	/* Retired: a serving thread that takes the flag after ours is
	 * released sees NULL (R7/A7).  Relaxed: see A6 at the top. */
	atomic_store_explicit(&s->slot[idx], NULL, memory_order_relaxed);
	/* A6: pairs with R6; wait (bounded) for a serving thread inside. */
	while (atomic_flag_test_and_set_explicit(&s->slot_busy[idx],
						 memory_order_acquire)) {
		if (++tries >= RECLAIM_TRIES)
			return -CORSD_EAGAIN; /* call again: entry stays NULL */
		corsd_os_yield();
	}
	/* Its counts stay in the totals; its posting, if any, is void. */
	add_worker_stats(&s->retired, sl);
	atomic_fetch_and_explicit(&s->slots->pending[idx / CORSD_PENDING_BITS],
				  ~(1ull << (idx % CORSD_PENDING_BITS)),
				  memory_order_relaxed);
	munmap(sl, s->slot_size);
	s->map[idx] = NULL;
	/* R7: pairs with A7 in take_request(). */
	atomic_flag_clear_explicit(&s->slot_busy[idx], memory_order_release);
	return 0;
}

uint32_t
corsd_server_slot_size(const struct corsd_server *s)
{
	return s->slot_size;
}

void
corsd_server_worker_stats(struct corsd_server *s,
			  struct corsd_worker_stats *out)
{
	*out = s->retired;
	/* pending: the doorbell bitmap's set bits, one per slot whose
	 * request no serving thread has taken yet (bits past nslots are
	 * noise a worker wrote). */
	for (uint32_t wd = 0; wd < s->nwords; wd++) {
		uint64_t bits = atomic_load_explicit(&s->slots->pending[wd],
						     memory_order_relaxed);

		if (wd == s->nwords - 1 && s->nslots % CORSD_PENDING_BITS)
			bits &= (1ull << (s->nslots % CORSD_PENDING_BITS)) - 1;
		out->pending += (uint64_t)__builtin_popcountll(bits);
	}
	/* The caller keeps claim and reclaim out: every mapping stays. */
	for (uint32_t i = 0; i < s->nslots; i++) {
		if (!s->map[i])
			continue;
		out->active++;
		add_worker_stats(out, s->map[i]);
	}
}
