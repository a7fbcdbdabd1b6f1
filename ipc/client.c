/*
 * client.c - the worker's side: cache probe, then its own request slot,
 * memory corsd made for this handle alone and handed over on the
 * registration socket (abi_int.h).
 *
 * Layer: ipc, linked into other people's servers: no allocation after
 * corsd_client_open(), no logging, no signals, no unbounded wait.
 *
 * Memory-order pairings with server.c:
 *   R1 (req_seq store, release)  pairs with A1 in server take_request()
 *   A2 (rep_seq load, acquire)   pairs with R3 in server take_request()
 *   D1/D2 (pending fetch_or, sleepers load, both seq_cst) and the
 *      server's S1/S2 form a Dekker pair: either the worker sees a
 *      sleeper and rings, or the sleeper sees the pending bit.  D1
 *      also pairs with the server's C2: our registration came before
 *      it, so a serving thread that clears our bit for an empty table
 *      entry sees our slot when it looks again, and sets the bit back.
 *   W1/W2 (waiting store, rep_seq reload, seq_cst) pair with the
 *      server's F3 fence: either corsd sees us waiting and wakes us, or
 *      we see the reply before we sleep (and FUTEX_WAIT re-checks).
 *   A3 (generation load, acquire) pairs with the release in
 *      corsd_server_publish_generation().
 *   A0 (magic loads, acquire, first in attach()) pairs with R0 in
 *      corsd_server_open(): the header a magic guards is complete.
 *
 * The breaker (per handle, plain fields: a handle is single-threaded).
 * A miss that times out, or that finds corsd's tick older than
 * CLIENT_TICK_STALE_MS with no answer from corsd since it went stale nor
 * within that bound, opens it.  While it is open a miss is answered unavailable
 * at once, without posting; cache hits are served as before (they are answers
 * of the live generation: the breaker only withholds).  After the back-off one
 * miss probes (posts and waits, bounded by the timeout): an answer closes the
 * breaker, another timeout doubles the back-off up to CLIENT_BACKOFF_MAX_MS.
 * Attaching (a corsd restart) closes it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "abi_int.h"
#include "cache_int.h"
#include "corsd_client.h"
#include "os.h"

#define CLIENT_SPIN_NS	30000u /* spin this long before sleeping */
#define CLIENT_PAUSE_NS 2000u  /* of which this long without yielding */
#define CLIENT_RETRY_MS 20u    /* re-attach attempts at most this often */
#define CLIENT_CHECK_MS 50u    /* look for a new or dead corsd this often */
/*
 * corsd ticks every 100 ms (tools/corsd/serve.c).  A tick 400 ms old is
 * four missed periods: no mere scheduling jitter, corsd has had no CPU
 * (SIGSTOP, swapping, a deadlock) for that long; yet well under a
 * timeout of a second or more, which it saves the first miss.  It is
 * evidence only until corsd answers: a corsd whose housekeeping lags but
 * whose serving threads answer is not treated as hung.
 */
#define CLIENT_TICK_STALE_MS 400u
/*
 * Back-off of an open breaker: 100 ms (one tick: a corsd only briefly
 * descheduled answers the first probe), doubling to 1600 ms.  A failed
 * probe blocks its caller for the timeout, so a hung corsd costs a worker
 * at most one timeout per 1.6 s; a corsd that is back answers again
 * within 1.6 s plus a timeout.
 */
#define CLIENT_BACKOFF_MIN_MS 100u
#define CLIENT_BACKOFF_MAX_MS 1600u
#define CLIENT_WHY_MAX	      320

struct corsd_client {
	char cache_name[CORSD_SHM_NAME_MAX];
	char slots_name[CORSD_SHM_NAME_MAX];
	char lock_name[CORSD_SHM_NAME_MAX];
	char workers_name[CORSD_SHM_NAME_MAX];
	uid_t owner; /* corsd's uid: the segments must be its */
	unsigned timeout_ms;

	/* Attached state; cache == NULL when detached. */
	const struct corsd_cache_hdr *cache;
	size_t cache_size;
	uint64_t cache_ino;
	struct corsd_slots_hdr *slots;
	size_t slots_size;
	struct corsd_slot *slot; /* our memfd's mapping */
	size_t slot_size;
	uint32_t slot_idx;
	int reg_fd; /* registration connection, held while attached; -1 */
	uint64_t epoch;

	bool suspect; /* corsd missed a deadline */
	/* The breaker: open while brk_backoff_ms != 0; no miss is posted
	 * before brk_until_ms, then one probes. */
	unsigned brk_backoff_ms;
	uint64_t brk_until_ms;
	uint64_t last_answer_ms; /* corsd's last answer to this handle */
	struct corsd_client_stats stats;
	/* Why the last attach failed, or why the breaker is open; "" when
	 * neither: corsd_client_why(). */
	char why[CLIENT_WHY_MAX];
	uint64_t next_try_ms;
	uint64_t next_check_ms; /* next look at who is behind the name */
};

static void
detach(struct corsd_client *c)
{
	/* Closing the connection is giving the slot back. */
	if (c->reg_fd >= 0)
		close(c->reg_fd);
	if (c->slot)
		munmap(c->slot, c->slot_size);
	if (c->slots)
		munmap(c->slots, c->slots_size);
	if (c->cache)
		munmap((void *)(uintptr_t)c->cache, c->cache_size);
	c->reg_fd = -1;
	c->cache = NULL;
	c->slots = NULL;
	c->slot = NULL;
	c->epoch = 0;
	c->suspect = false;
	c->brk_backoff_ms = 0; /* a new corsd starts with it closed */
}

/* One line into c->why, cut to fit. */
static void __attribute__((format(printf, 2, 3)))
set_why(struct corsd_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/*
 * Register with corsd for a slot of our own: connect to its registration
 * socket (corsd's, checked as the segments are, and listened on by the
 * process the cache names), take the message and the memfd, check both
 * and map it.  Every step waits at most the handle's timeout.
 */
static int
claim_slot(struct corsd_client *c, const struct corsd_cache_hdr *h)
{
	struct corsd_reg_msg m;
	uint64_t t0 = corsd_os_now_ns(), spent_ms;
	pid_t peer;
	ssize_t n;
	void *map;
	int fd = -1, rc;

	rc = corsd_os_unix_connect(c->workers_name, c->owner, c->timeout_ms,
				   &c->reg_fd, &peer, c->why, sizeof(c->why));
	if (rc)
		return rc;
	/* The connect and the message share one timeout. */
	spent_ms = (corsd_os_now_ns() - t0) / 1000000u;
	if (spent_ms >= c->timeout_ms ||
	    corsd_os_sock_timeout(c->reg_fd,
				  c->timeout_ms - (unsigned)spent_ms) != 0) {
		set_why(c, "no answer on '%s' within %u ms", c->workers_name,
			c->timeout_ms);
		return -CORSD_ETIMEDOUT;
	}
	if (peer != (pid_t)h->daemon_pid) {
		set_why(c, "'%s' is served by pid %d, not by corsd (pid %u)",
			c->workers_name, (int)peer, (unsigned)h->daemon_pid);
		return -CORSD_EPERM;
	}
	n = corsd_os_recv_fd(c->reg_fd, &m, sizeof(m), &fd);
	if (n == (ssize_t)sizeof(m) && m.magic == CORSD_REG_MAGIC &&
	    m.idx == CORSD_REG_NO_SLOT) {
		set_why(c, "every slot of corsd is taken (%u)",
			(unsigned)h->slots_nslots);
		rc = -CORSD_EUNAVAIL;
		goto out;
	}
	if (n != (ssize_t)sizeof(m) || fd < 0 || m.magic != CORSD_REG_MAGIC ||
	    m.abi_version != CORSD_ABI_VERSION || m.epoch != h->epoch ||
	    m.idx >= h->slots_nslots || m.slot_size != h->slots_slot_size) {
		set_why(c, "no valid slot from '%s' (%s)", c->workers_name,
			n < 0 && errno == EAGAIN ? "no answer in time"
			: n < 0			 ? strerror(errno)
			: n == 0		 ? "corsd closed the connection"
						 : "bad message");
		rc = -CORSD_EUNAVAIL;
		goto out;
	}
	rc = corsd_os_memfd_map(fd, m.slot_size, &map, c->why, sizeof(c->why));
	if (rc)
		goto out;
	c->slot = map;
	c->slot_size = m.slot_size;
	c->slot_idx = m.idx;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * Map both segments and register for a slot; on any failure stay
 * detached, with the reason in c->why.  Provenance first (SECURITY.md):
 * the files must be corsd's user's, in its own directory
 * (corsd_os_shm_open()), and the header must name the live process that
 * holds the instance lock, with its start time (a start time of 0 never
 * passes: it would skip the check that the pid was not reused).
 */
static int
attach(struct corsd_client *c)
{
	const struct corsd_cache_hdr *h;
	void *map;
	size_t size;
	uint64_t ino, sino;
	pid_t holder;
	int rc;

	rc = corsd_os_shm_open(c->cache_name, false, c->owner, &map, &size,
			       &ino, c->why, sizeof(c->why));
	if (rc) {
		if (rc == -CORSD_EUNAVAIL)
			set_why(c, "corsd is not running (no '%s')",
				c->cache_name);
		return rc == -CORSD_EPERM ? rc : -CORSD_EUNAVAIL;
	}
	h = map;
	c->cache = h;
	c->cache_size = size;
	c->cache_ino = ino;
	/* A0: pairs with R0, the magic corsd stores last. */
	if (size < sizeof(*h) ||
	    atomic_load_explicit(&h->magic, memory_order_acquire) !=
		    CORSD_CACHE_MAGIC) {
		set_why(c, "'%s' is not ready yet", c->cache_name);
		goto unavail;
	}
	if (h->abi_version != CORSD_ABI_VERSION || h->hdr_size != sizeof(*h) ||
	    h->segment_size != size) {
		set_why(c, "'%s' has ABI version %u, this worker speaks %u",
			c->cache_name, (unsigned)h->abi_version,
			CORSD_ABI_VERSION);
		goto unavail;
	}
	/* A SIGKILLed corsd leaves its segments behind, still saying
	 * SERVING: its cached answers must not outlive it. */
	holder = corsd_os_lock_pid(c->lock_name, c->owner);
	if (atomic_load_explicit(&h->state, memory_order_acquire) ==
		    CORSD_STATE_STOPPED ||
	    h->daemon_start == 0 ||
	    !corsd_os_pid_alive((pid_t)h->daemon_pid, h->daemon_start) ||
	    holder != (pid_t)h->daemon_pid) {
		set_why(c, "'%s' was made by pid %u, which is %s",
			c->cache_name, (unsigned)h->daemon_pid,
			h->daemon_start == 0 ? "not identified (start time 0)"
			: holder != (pid_t)h->daemon_pid
				? "not the holder of the instance lock"
				: "gone or stopped");
		goto unavail;
	}

	rc = corsd_os_shm_open(c->slots_name, true, c->owner, &map, &size,
			       &sino, c->why, sizeof(c->why));
	if (rc)
		goto unavail;
	c->slots = map;
	c->slots_size = size;
	/* Geometry comes from the read-only header, never from the
	 * writable segment another worker could have scribbled on. */
	if (size != h->slots_segment_size ||
	    size < sizeof(struct corsd_slots_hdr) ||
	    atomic_load_explicit(&c->slots->magic, memory_order_acquire) !=
		    CORSD_SLOTS_MAGIC ||
	    c->slots->epoch != h->epoch || h->slots_nslots == 0 ||
	    h->slots_nslots > CORSD_SLOTS_MAX ||
	    h->slots_slot_size < sizeof(struct corsd_slot)) {
		set_why(c, "'%s' does not match its cache segment",
			c->slots_name);
		goto unavail;
	}
	rc = claim_slot(c, h);
	if (rc)
		goto fail;
	c->epoch = h->epoch;
	c->suspect = false;
	c->why[0] = '\0';
	return 0;
unavail:
	rc = -CORSD_EUNAVAIL;
fail:
	detach(c);
	return rc == -CORSD_EPERM ? rc : -CORSD_EUNAVAIL;
}

/* corsd's uid: $CORSD_DAEMON_UID (a number), else root. */
static int
daemon_uid(uid_t *uid)
{
	const char *v = getenv("CORSD_DAEMON_UID");
	unsigned long n;
	char *end;

	*uid = 0;
	if (!v || !v[0])
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (*end || errno || n >= (uid_t)-1)
		return -CORSD_EINVAL;
	*uid = (uid_t)n;
	return 0;
}

static bool
timeout_ok(unsigned ms)
{
	return ms >= CORSD_CLIENT_TIMEOUT_MIN_MS &&
	       ms <= CORSD_CLIENT_TIMEOUT_MAX_MS;
}

CORSD_API struct corsd_client *
corsd_client_open(const char *instance, unsigned timeout_ms, int *err)
{
	struct corsd_client *c;
	int rc = -CORSD_EINVAL;

	if (!timeout_ok(timeout_ms))
		goto fail;
	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = -CORSD_ENOMEM;
		goto fail;
	}
	if (corsd_os_instance_path(c->cache_name, sizeof(c->cache_name), NULL,
				   instance, "cache") ||
	    corsd_os_instance_path(c->slots_name, sizeof(c->slots_name), NULL,
				   instance, "slots") ||
	    corsd_os_instance_path(c->lock_name, sizeof(c->lock_name), NULL,
				   instance, "lock") ||
	    corsd_os_instance_path(c->workers_name, sizeof(c->workers_name),
				   NULL, instance, "workers") ||
	    daemon_uid(&c->owner) != 0) {
		free(c);
		goto fail;
	}
	c->timeout_ms = timeout_ms;
	c->reg_fd = -1;
	attach(c); /* corsd may come later: decide() retries */
	if (err)
		*err = 0;
	return c;
fail:
	if (err)
		*err = rc;
	return NULL;
}

CORSD_API int
corsd_client_set_timeout(struct corsd_client *c, unsigned timeout_ms)
{
	if (!c || !timeout_ok(timeout_ms))
		return -CORSD_EINVAL;
	c->timeout_ms = timeout_ms;
	return 0;
}

CORSD_API void
corsd_client_close(struct corsd_client *c)
{
	if (!c)
		return;
	detach(c);
	free(c);
}

CORSD_API const char *
corsd_client_why(const struct corsd_client *c)
{
	return c ? c->why : "";
}

CORSD_API uint64_t
corsd_client_epoch(const struct corsd_client *c)
{
	return c && c->cache ? c->epoch : 0;
}

CORSD_API int
corsd_client_stats(const struct corsd_client *c, struct corsd_client_stats *st)
{
	if (!c || !st)
		return -CORSD_EINVAL;
	*st = c->stats;
	st->open = c->brk_backoff_ms != 0;
	st->backoff_ms = c->brk_backoff_ms;
	return 0;
}

static int
unavailable(const struct corsd_request *r, struct corsd_answer *ans)
{
	ans->verdict = CORSD_VERDICT_UNAVAILABLE;
	ans->flags = corsd_request_is_preflight(r) ? CORSD_ANSWER_PREFLIGHT : 0;
	ans->status = 0;
	ans->reason = CORSD_REASON_UNAVAILABLE;
	ans->nheaders = 0;
	ans->max_age = CORSD_MAX_AGE_NONE;
	ans->block_len = 0;
	ans->subject_len = 0;
	return -CORSD_EUNAVAIL;
}

/*
 * Is the corsd we are attached to still the one behind the name, alive
 * and serving?  Cheap checks first; the syscalls only when suspect.
 */
static bool
attached_and_live(struct corsd_client *c, uint64_t now_ms)
{
	const struct corsd_cache_hdr *h = c->cache;

	if (!h)
		return false;
	if (atomic_load_explicit(&h->state, memory_order_acquire) ==
	    CORSD_STATE_STOPPED)
		return false;
	/* A corsd killed (and perhaps started again) leaves our old cache
	 * mapped and still answering: look at who is behind the name now
	 * and then (a stat(2) and a kill(2) per 50 ms). */
	if (now_ms >= c->next_check_ms) {
		c->next_check_ms = now_ms + CLIENT_CHECK_MS;
		c->suspect = true;
	}
	if (c->suspect) {
		if (corsd_os_shm_ino(c->cache_name) != c->cache_ino ||
		    !corsd_os_pid_alive((pid_t)h->daemon_pid,
					h->daemon_start) ||
		    !corsd_os_still_connected(c->reg_fd))
			return false;
		c->suspect = false;
	}
	return true;
}

/* Open the breaker (closed before); @why says what corsd failed to do.
 * The why is set once per opening, not per probe, so that a caller
 * logging it when it changes logs once. */
static void
breaker_open(struct corsd_client *c, uint64_t now_ms, const char *why)
{
	c->brk_backoff_ms = CLIENT_BACKOFF_MIN_MS;
	c->brk_until_ms = now_ms + CLIENT_BACKOFF_MIN_MS;
	c->stats.opens++;
	set_why(c,
		"%s; not asking it again for %u ms, then once per back-off "
		"(up to %u ms) until it answers",
		why, CLIENT_BACKOFF_MIN_MS, CLIENT_BACKOFF_MAX_MS);
}

/*
 * Is this miss to be answered without corsd?  Open and within the
 * back-off: yes.  Open and past it: no, it probes.  Closed: yes when the
 * tick says corsd is hung (and the breaker opens).  No syscall: the
 * tick is a load of memory the hit path reads too.
 */
static bool
breaker_withholds(struct corsd_client *c, uint64_t now_ms)
{
	uint64_t tick, age;
	char why[64];

	if (c->brk_backoff_ms) {
		if (now_ms < c->brk_until_ms)
			return true;
		c->stats.probes++;
		return false;
	}
	/* Relaxed: a clock value, no data published with it.  An answer
	 * since the tick went stale, or within the bound (corsd just
	 * continued, its tick not yet published), outweighs the tick. */
	tick = atomic_load_explicit(&c->cache->tick_ms, memory_order_relaxed);
	if (!tick || now_ms <= tick + CLIENT_TICK_STALE_MS ||
	    c->last_answer_ms > tick + CLIENT_TICK_STALE_MS ||
	    now_ms <= c->last_answer_ms + CLIENT_TICK_STALE_MS)
		return false;
	age = now_ms - tick;
	snprintf(why, sizeof(why), "corsd's tick is %llu ms old (hung?)",
		 (unsigned long long)age);
	breaker_open(c, now_ms, why);
	return true;
}

/* A miss timed out: open the breaker, or keep it open longer. */
static void
breaker_timed_out(struct corsd_client *c, uint64_t now_ms)
{
	char why[64];

	if (!c->brk_backoff_ms) {
		snprintf(why, sizeof(why), "corsd did not answer within %u ms",
			 c->timeout_ms);
		breaker_open(c, now_ms, why);
		return;
	}
	c->brk_backoff_ms = c->brk_backoff_ms * 2 > CLIENT_BACKOFF_MAX_MS
				    ? CLIENT_BACKOFF_MAX_MS
				    : c->brk_backoff_ms * 2;
	c->brk_until_ms = now_ms + c->brk_backoff_ms;
}

/* corsd answered: close the breaker. */
static void
breaker_answered(struct corsd_client *c, uint64_t now_ms)
{
	c->last_answer_ms = now_ms;
	if (c->brk_backoff_ms) {
		c->brk_backoff_ms = 0;
		c->why[0] = '\0';
	}
}

static unsigned
lat_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000u;
	unsigned b = 0;

	while (b < CORSD_LAT_BUCKETS - 1 && us >= (1ull << b))
		b++;
	return b;
}

static void
count(_Atomic uint64_t *ctr)
{
	/* One writer per slot: a relaxed load and store, no locked RMW. */
	atomic_store_explicit(
		ctr, atomic_load_explicit(ctr, memory_order_relaxed) + 1,
		memory_order_relaxed);
}

/*
 * Post the request and wait for rep_seq to reach it, at most the handle's
 * timeout.  *@t0 is when the request was posted: the clock is read after
 * posting, so that corsd works while this thread reads it (a doorbell
 * ring, when corsd sleeps, is still counted in).
 */
static int
round_trip(struct corsd_client *c, const struct corsd_request *r,
	   struct corsd_answer *ans, uint64_t *t0, uint64_t spent_ns)
{
	uint64_t budget = (uint64_t)c->timeout_ms * 1000000u;
	struct corsd_slot *s = c->slot;
	struct corsd_slots_hdr *sh = c->slots;
	uint64_t deadline, now;
	uint64_t bit = 1ull << (c->slot_idx % CORSD_PENDING_BITS);
	uint32_t seq, rep;
	uint16_t nh, bl;

	corsd_wire_pack(&s->req, r);
	seq = atomic_load_explicit(&s->req_seq, memory_order_relaxed) + 1;
	/* R1: the request bytes above are visible before the new seq. */
	atomic_store_explicit(&s->req_seq, seq, memory_order_release);
	/* D1, D2: ring only when a serving thread said it sleeps. */
	atomic_fetch_or_explicit(&sh->pending[c->slot_idx / CORSD_PENDING_BITS],
				 bit, memory_order_seq_cst);
	*t0 = corsd_os_now_ns();
	/* What attaching took (this call) comes off the timeout. */
	deadline = *t0 + (spent_ns < budget ? budget - spent_ns : 0);
	if (atomic_load_explicit(&sh->sleepers, memory_order_seq_cst)) {
		atomic_fetch_add_explicit(&sh->doorbell, 1,
					  memory_order_release);
		corsd_os_futex_wake(&sh->doorbell, 1);
	}

	for (unsigned i = 0;; i++) {
		/* A2: pairs with R3; the answer is complete once seen. */
		rep = atomic_load_explicit(&s->rep_seq, memory_order_acquire);
		if (rep == seq)
			break;
		if ((i & 63) != 63) {
			corsd_os_cpu_relax();
			continue;
		}
		now = corsd_os_now_ns();
		if (now >= deadline)
			return -CORSD_ETIMEDOUT;
		if (now - *t0 < CLIENT_SPIN_NS) {
			/* corsd on another core answers within the pause;
			 * past it, corsd may be waiting for this CPU (woken
			 * onto it, or sharing it): let it run. */
			if (now - *t0 >= CLIENT_PAUSE_NS)
				corsd_os_yield();
			continue;
		}
		/* W1, W2: say we sleep, then look once more. */
		atomic_store_explicit(&s->waiting, 1, memory_order_seq_cst);
		rep = atomic_load_explicit(&s->rep_seq, memory_order_seq_cst);
		if (rep != seq) {
			count(&s->n_sleeps);
			corsd_os_futex_wait(&s->rep_seq, rep,
					    (int64_t)(deadline - now));
		}
		atomic_store_explicit(&s->waiting, 0, memory_order_relaxed);
	}

	if (s->rc != 0)
		return -CORSD_EINVAL;
	/* corsd wrote these into memory only it and this process map;
	 * checked all the same before they size a copy into the caller's
	 * buffer. */
	nh = s->answer.nheaders;
	bl = s->answer.block_len;
	if (nh > CORSD_ANSWER_HEADERS_MAX || bl > CORSD_ANSWER_BLOCK_MAX)
		return -CORSD_EINVAL;
	memcpy(ans, &s->answer, offsetof(struct corsd_answer, block) + bl);
	ans->nheaders = nh;
	ans->block_len = bl;
	if (ans->subject_len > CORSD_ANSWER_SUBJECT_MAX)
		ans->subject_len = 0;
	for (unsigned i = 0; i < nh; i++)
		if ((uint32_t)ans->headers[i].name_off +
				    ans->headers[i].name_len >
			    bl ||
		    (uint32_t)ans->headers[i].value_off +
				    ans->headers[i].value_len >
			    bl)
			return -CORSD_EINVAL;
	return 0;
}

CORSD_API int
corsd_client_decide(struct corsd_client *c, const struct corsd_request *req,
		    struct corsd_answer *ans)
{
	struct corsd_request r;
	char key[CORSD_CACHE_KEY_MAX];
	size_t klen;
	uint64_t now_ms, t0, spent = 0;
	int rc;

	if (!c || !req || !ans)
		return -CORSD_EINVAL;
	corsd_wire_clip(req, &r);
	now_ms = corsd_os_now_ms();
	if (!attached_and_live(c, now_ms)) {
		if (now_ms < c->next_try_ms)
			return unavailable(&r, ans);
		c->next_try_ms = now_ms + CLIENT_RETRY_MS;
		detach(c);
		t0 = corsd_os_now_ns();
		if (attach(c))
			return unavailable(&r, ans);
		spent = corsd_os_now_ns() - t0;
	}
	count(&c->slot->n_requests);

	klen = corsd_cache_key(&r, key);
	if (klen) {
		/* A3: entries of an older generation are misses. */
		uint64_t gen = atomic_load_explicit(&c->cache->generation,
						    memory_order_acquire);
		uint64_t hash = corsd_cache_hash(key, klen);

		if (corsd_cache_lookup(c->cache, key, klen, hash, gen, now_ms,
				       ans)) {
			count(&c->slot->n_hits);
			return 0;
		}
	}
	if (breaker_withholds(c, now_ms)) {
		c->stats.withheld++;
		count(&c->slot->n_withheld);
		return unavailable(&r, ans);
	}
	count(&c->slot->n_misses);

	rc = round_trip(c, &r, ans, &t0, spent);
	if (rc == -CORSD_ETIMEDOUT) {
		count(&c->slot->n_timeouts);
		c->suspect = true;
		breaker_timed_out(c, corsd_os_now_ms());
		return unavailable(&r, ans);
	}
	count(&c->slot->lat[lat_bucket(corsd_os_now_ns() - t0)]);
	c->suspect = false;
	breaker_answered(c, now_ms);
	if (rc) {
		unavailable(&r, ans);
		return rc;
	}
	return 0;
}
