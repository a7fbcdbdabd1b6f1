/*
 * serve.c - the serving threads (shared-memory requests -> decide) and
 * the housekeeping thread (the clock tick).  A dead worker's slot is
 * reclaimed by the registrar (register.c) when its connection ends.
 *
 * Layer: tools/corsd.  Rules: a serving thread is an RCU reader for its
 * whole life (registered before its first request, unregistered after
 * its last) and never blocks on anything but the doorbell; counters are
 * per thread, written by that thread alone.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-memb.h>

#include "log_int.h"
#include "os.h"
#include "daemon_int.h"
#include "serve_int.h"

#define TICK_MS 100u

struct serve_thread {
	pthread_t tid;
	struct corsd_daemon *d;
	struct corsd_serve_stats stats;
};

static void *
serve_main(void *arg)
{
	struct serve_thread *t = arg;

	urcu_memb_register_thread();
	corsd_server_serve(t->d->server, corsd_reload_decide, t->d, &t->stats,
			   &t->d->stop_serving);
	urcu_memb_unregister_thread();
	return NULL;
}

/*
 * Housekeeping: the tick every TICK_MS.  Waits on the stop eventfd, so
 * shutdown does not wait out a period.
 */
static void *
housekeeping_main(void *arg)
{
	struct corsd_daemon *d = arg;
	struct pollfd pfd = {.fd = d->stop_fd, .events = POLLIN};
	uint64_t next_tick = corsd_os_now_ns();
	uint64_t now;
	int rc;

	for (;;) {
		now = corsd_os_now_ns();
		if (now < next_tick) {
			rc = poll(&pfd, 1,
				  (int)((next_tick - now + 999999) / 1000000));
			if (rc > 0)
				break;
			continue;
		}
		/* A late wake-up (a stopped process, a loaded machine)
		 * resumes the period instead of ticking to catch up. */
		next_tick = now + TICK_MS * 1000000ull;

		pthread_mutex_lock(&d->server_lock);
		corsd_server_tick(d->server);
		pthread_mutex_unlock(&d->server_lock);
	}
	return NULL;
}

int
corsd_serve_start(struct corsd_daemon *d)
{
	struct corsd_serving *sv = &d->serving;
	struct serve_thread *serving;
	char name[32];
	unsigned i;
	int rc;

	serving = sv->threads = calloc(d->threads, sizeof(*serving));
	if (!serving) {
		corsd_log(LOG_ERR, "out of memory for %u serving threads",
			  d->threads);
		return -1;
	}
	for (i = 0; i < d->threads; i++) {
		serving[i].d = d;
		rc = pthread_create(&serving[i].tid, NULL, serve_main,
				    &serving[i]);
		if (rc != 0) {
			corsd_log(LOG_ERR, "cannot start serving thread %u: %s",
				  i, strerror(rc));
			corsd_serve_stop(d);
			return -1;
		}
		sv->n++;
		snprintf(name, sizeof(name), "corsd-serve%u", i);
		name[15] = '\0'; /* the kernel's limit for a name */
		pthread_setname_np(serving[i].tid, name);
	}
	rc = pthread_create(&sv->hk_thread, NULL, housekeeping_main, d);
	if (rc != 0) {
		corsd_log(LOG_ERR, "cannot start the housekeeping thread: %s",
			  strerror(rc));
		corsd_serve_stop(d);
		return -1;
	}
	pthread_setname_np(sv->hk_thread, "corsd-hk");
	sv->hk_running = true;
	return 0;
}

void
corsd_serve_stop(struct corsd_daemon *d)
{
	struct corsd_serving *sv = &d->serving;
	unsigned i;

	/* Relaxed, as the server reads it: the flag carries no data, and
	 * what the threads did is ordered before us by pthread_join(). */
	atomic_store_explicit(&d->stop_serving, true, memory_order_relaxed);
	if (d->server)
		corsd_server_kick(d->server);
	if (sv->joined)
		return;
	for (i = 0; i < sv->n; i++)
		pthread_join(sv->threads[i].tid, NULL);
	sv->joined = true;
}

void
corsd_serve_release(struct corsd_daemon *d)
{
	free(d->serving.threads);
	d->serving.threads = NULL;
	d->serving.n = 0;
}

void
corsd_housekeeping_join(struct corsd_daemon *d)
{
	if (!d->serving.hk_running)
		return;
	pthread_join(d->serving.hk_thread, NULL);
	d->serving.hk_running = false;
}

void
corsd_serve_get_totals(struct corsd_daemon *d, struct corsd_serve_totals *out)
{
	const struct corsd_serving *sv = &d->serving;
	const struct corsd_serve_stats *st;
	unsigned i, j;

	memset(out, 0, sizeof(*out));
	/* Relaxed: each counter has one writer and a sum of counters read
	 * a moment apart is what statistics promise. */
#define SUM(field) atomic_load_explicit(&st->field, memory_order_relaxed)
	for (i = 0; i < sv->n; i++) {
		st = &sv->threads[i].stats;
#define CORSD_STAT_SERVE(name, doc) out->name += SUM(name);
#include "tbl_stats.h"
		for (j = 0; j < CORSD_VERDICT__COUNT; j++)
			out->verdicts[j] += SUM(verdicts[j]);
		for (j = 0; j < CORSD_REASON__COUNT; j++)
			out->reasons[j] += SUM(reasons[j]);
	}
#undef SUM
}
