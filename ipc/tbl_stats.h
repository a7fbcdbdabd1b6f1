/*
 * tbl_stats.h - corsd's statistics counters, as an X-macro table.
 *
 * Layer: ipc, internal.  One row per counter, in the order of corsd's
 * stats answer (tools/corsd/control.c), which corsctl stats prints as it
 * comes.  Each row is expanded into the struct that holds the counter,
 * the code that sums it and its key in the stats answer:
 *
 *   CORSD_STAT_SERVE(name, "doc")   a serving thread's counter (struct
 *	corsd_serve_stats), summed over the threads; a top-level key.
 *   CORSD_STAT_SLOTS(name, "doc")   what the slots and the doorbell
 *	bitmap hold right now, counted over them; a key of "workers".
 *   CORSD_STAT_WORKER(name, "doc")  a worker's counter in its slot (the
 *	slot field n_<name>, ipc/abi_int.h), summed over the slots; a key
 *	of "workers".
 *
 * Define the kinds you need and include this file: a kind left undefined
 * expands to nothing, and all three are undefined again at the end.
 */
#ifndef CORSD_STAT_SERVE
#define CORSD_STAT_SERVE(name, doc)
#endif
#ifndef CORSD_STAT_SLOTS
#define CORSD_STAT_SLOTS(name, doc)
#endif
#ifndef CORSD_STAT_WORKER
#define CORSD_STAT_WORKER(name, doc)
#endif

CORSD_STAT_SERVE(served,        "requests a serving thread answered")
CORSD_STAT_SERVE(bad_requests,  "requests refused: malformed slot contents")
CORSD_STAT_SERVE(cache_inserts, "answers written to the decision cache")
CORSD_STAT_SERVE(wakeups,       "returns of a serving thread from its doorbell sleep")

CORSD_STAT_SLOTS(active,        "slots held by a registered worker (its connection open)")
CORSD_STAT_SLOTS(pending,       "requests posted to slots, not yet taken by a serving thread")

CORSD_STAT_WORKER(requests,     "decisions the workers asked for")
CORSD_STAT_WORKER(hits,         "answers found in the decision cache")
CORSD_STAT_WORKER(misses,       "requests the cache could not answer, posted to corsd")
CORSD_STAT_WORKER(timeouts,     "requests corsd did not answer within the worker's timeout")
CORSD_STAT_WORKER(sleeps,       "waits of a worker for its answer on a futex")
CORSD_STAT_WORKER(withheld,     "misses answered unavailable at once, not posted: the worker's breaker was open (corsd hung)")

#undef CORSD_STAT_SERVE
#undef CORSD_STAT_SLOTS
#undef CORSD_STAT_WORKER
