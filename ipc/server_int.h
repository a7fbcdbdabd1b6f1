/*
 * server_int.h - the corsd side of the shared-memory path.
 *
 * Layer: ipc, internal; used by the daemon (tools/corsd) only.  It
 * creates the segments, serves posted requests through a caller-supplied
 * decide function (the daemon wraps corsd_decide() in an RCU read-side
 * critical section there; this layer knows nothing of RCU or of the
 * engine), writes the decision cache, claims a slot (a memfd of its own)
 * for each worker that registers and reclaims it when the worker is gone,
 * and gathers statistics.
 *
 * Threads: any number of serving threads may call corsd_server_serve()
 * on one server, each with its own struct corsd_serve_stats.  The other
 * calls may come from any thread, one at a time (the daemon's
 * server_lock), except corsd_server_close(), which needs the serving
 * threads joined first.  Counters are totals since corsd started: a
 * reclaimed slot's counts stay.
 */
#ifndef CORSD_SERVER_INT_H
#define CORSD_SERVER_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi_int.h"
#include "corsd_types.h"

/* The most cache entries a server takes: 1M entries of
 * sizeof(struct corsd_cache_entry) (~1.6 KiB) is ~1.6 GiB of shared
 * memory.  corsd's --cache-entries checks against this one bound. */
#define CORSD_CACHE_ENTRIES_MAX (1u << 20)

struct corsd_server_config {
	const char *rundir;	/* corsd's own directory (os.h) */
	const char *instance;	/* validated by corsd_os_instance_path() */
	gid_t gid;		/* (gid_t)-1: the daemon's own group */
	unsigned nslots;	/* 1..CORSD_SLOTS_MAX */
	unsigned cache_entries; /* 1..CORSD_CACHE_ENTRIES_MAX, rounded up to
				 * sets of CORSD_CACHE_WAYS */
	unsigned cache_ttl_ms;	/* cap for answers without a max-age */
	unsigned spin_us;	/* a serving thread spins this long for work
				 * before it sleeps on the doorbell */
};

/*
 * Decide @req into @ans.  Return the generation of the snapshot that
 * decided (stamped into the cache entry), or 0 when the answer must not
 * be cached.
 */
typedef uint64_t (*corsd_server_decide_fn)(void *ctx,
					   const struct corsd_request *req,
					   struct corsd_answer *ans);

/* Per serving thread; summed by the stats call.  Relaxed atomics: one
 * writer, read while it runs.  The counters: tbl_stats.h. */
struct corsd_serve_stats {
#define CORSD_STAT_SERVE(name, doc) _Atomic uint64_t name;
#include "tbl_stats.h"
	_Atomic uint64_t verdicts[CORSD_VERDICT__COUNT];
	_Atomic uint64_t reasons[CORSD_REASON__COUNT];
};

struct corsd_server;

/* Create both segments for an instance whose lock the caller holds; no
 * slot is claimed yet.
 * The cache header says STARTING until corsd_server_set_state(). */
struct corsd_server *corsd_server_open(const struct corsd_server_config *cfg,
				       int *err);
/* Mark STOPPED, unmap and unlink both segments, unmap every slot.  NULL
 * is fine. */
void corsd_server_close(struct corsd_server *s);

void corsd_server_set_state(struct corsd_server *s,
			    enum corsd_daemon_state state);
/* Make @generation the one cache entries must carry: every entry of an
 * older one is dead from the moment this returns. */
void corsd_server_publish_generation(struct corsd_server *s,
				     uint64_t generation);
uint64_t corsd_server_epoch(const struct corsd_server *s);

/*
 * Serve until *stop is set (checked at least every 100 ms).  Spins up to
 * spin_us after the last work, then sleeps on the doorbell.
 */
void corsd_server_serve(struct corsd_server *s, corsd_server_decide_fn fn,
			void *ctx, struct corsd_serve_stats *st,
			const _Atomic bool *stop);
/* Wake every sleeping serving thread (to notice *stop). */
void corsd_server_kick(struct corsd_server *s);

/* Housekeeping: publish the clock tick. */
void corsd_server_tick(struct corsd_server *s);

/*
 * corsd_server_slot_claim() - a slot for a worker that registers: a free
 * index and a new memfd, sealed, zeroed and mapped by corsd (never one
 * another worker held), that serving threads serve from now on.
 * @fd: out: the memfd, to hand to the worker and then close (corsd's
 *      mapping keeps the memory).
 * @idx: out: the slot's index, its bit in the pending bitmap.
 * Return: 0; -CORSD_EAGAIN when every slot is taken; -CORSD_ENOMEM,
 * -CORSD_EIO from memfd_create(2) and friends.
 */
int corsd_server_slot_claim(struct corsd_server *s, int *fd, uint32_t *idx);
/*
 * corsd_server_slot_reclaim() - retire slot @idx (its worker is gone):
 * no serving thread touches it from the moment this returns 0; its
 * counters go to the totals, its mapping goes.  Waits for a serving
 * thread inside it, a bounded while: -CORSD_EAGAIN when that was not
 * enough (the slot is retired but still mapped: call again later).
 * Return: 0, -CORSD_EAGAIN, -CORSD_EINVAL for a slot not claimed.
 */
int corsd_server_slot_reclaim(struct corsd_server *s, uint32_t idx);
/* The size of a worker's slot memory, as the registration message says. */
uint32_t corsd_server_slot_size(const struct corsd_server *s);

/* What the workers' side of the slots says, summed (tbl_stats.h). */
struct corsd_worker_stats {
#define CORSD_STAT_SLOTS(name, doc)  uint64_t name;
#define CORSD_STAT_WORKER(name, doc) uint64_t name;
#include "tbl_stats.h"
	uint64_t lat[CORSD_LAT_BUCKETS];
};

void corsd_server_worker_stats(struct corsd_server *s,
			       struct corsd_worker_stats *out);

#endif /* CORSD_SERVER_INT_H */
