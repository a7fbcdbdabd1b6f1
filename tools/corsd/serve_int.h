/*
 * serve_int.h - the serving threads and the housekeeping thread.
 *
 * Layer: tools/corsd, internal.  Rule: serving threads are registered
 * with urcu_memb for their whole life and do nothing but
 * corsd_server_serve(); housekeeping does the periodic server calls.
 */
#ifndef CORSD_SERVE_INT_H
#define CORSD_SERVE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "corsd_types.h"

struct corsd_daemon;
struct serve_thread;

/*
 * The serving part's state, a part of struct corsd_daemon (d->serving):
 * written by the main thread (start, stop, release); n is read by the
 * control thread, which runs only between start and stop.
 */
struct corsd_serving {
	struct serve_thread *threads;
	unsigned n; /* started */
	bool joined;
	pthread_t hk_thread;
	bool hk_running;
};

/* The serving threads' counters, summed. */
struct corsd_serve_totals {
#define CORSD_STAT_SERVE(name, doc) uint64_t name;
#include "tbl_stats.h"
	uint64_t verdicts[CORSD_VERDICT__COUNT];
	uint64_t reasons[CORSD_REASON__COUNT];
};

/* Start d->threads serving threads and the housekeeping thread.
 * Return 0, or -1 (threads already started are stopped again). */
int corsd_serve_start(struct corsd_daemon *d);
/* Stop and join the serving threads (d->stop_serving, kick). */
void corsd_serve_stop(struct corsd_daemon *d);
/* Free what the serving threads used; after every thread that reads
 * the totals is joined. */
void corsd_serve_release(struct corsd_daemon *d);
/* Join the housekeeping thread; corsd_daemon_signal_stop() first. */
void corsd_housekeeping_join(struct corsd_daemon *d);

void corsd_serve_get_totals(struct corsd_daemon *d,
			    struct corsd_serve_totals *out);

#endif /* CORSD_SERVE_INT_H */
