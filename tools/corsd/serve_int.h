/*
 * serve_int.h - the serving threads and the housekeeping thread.
 *
 * Layer: tools/corsd, internal.  Rule: serving threads are registered
 * with urcu_memb for their whole life and do nothing but
 * corsd_server_serve(); housekeeping does the periodic server calls.
 */
#ifndef CORSD_SERVE_INT_H
#define CORSD_SERVE_INT_H

#include <stdint.h>

#include "daemon_int.h"

/* The serving threads' counters, summed. */
struct corsd_serve_totals {
	uint64_t served;
	uint64_t bad_requests;
	uint64_t cache_inserts;
	uint64_t wakeups;
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
void corsd_serve_release(void);
/* Join the housekeeping thread; corsd_daemon_signal_stop() first. */
void corsd_housekeeping_join(void);

void corsd_serve_get_totals(struct corsd_serve_totals *out);

#endif /* CORSD_SERVE_INT_H */
