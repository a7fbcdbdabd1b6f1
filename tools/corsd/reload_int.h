/*
 * reload_int.h - the policy snapshot in force, its RCU publication, and
 * the one thread that reloads it.
 *
 * Layer: tools/corsd, internal.  Rule: the snapshot pointer is read only
 * inside an RCU (memb flavour) read-side critical section, by registered
 * threads; it is replaced only by the reload thread, which frees the old
 * snapshot after a grace period.
 */
#ifndef CORSD_RELOAD_INT_H
#define CORSD_RELOAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corsd_types.h"
#include "daemon_int.h"

#define CORSD_RELOAD_ERROR_MAX 512

struct corsd_reload_result {
	bool ok;
	uint64_t generation; /* in force after the reload */
	char error[CORSD_RELOAD_ERROR_MAX];
};

struct corsd_reload_stats {
	uint64_t generation;
	size_t policies;
	uint64_t reloads; /* successful, the first load excluded */
	uint64_t failures;
	int64_t last_time;	 /* wall clock of the last attempt; 0: none */
	int64_t last_error_time; /* of the last failure; 0: none */
	bool has_error;		 /* the last attempt failed */
	char last_error[CORSD_RELOAD_ERROR_MAX];
};

/*
 * Load and compile the policy file as generation 1, printing every
 * diagnostic.  Main thread, before any other thread.  Return: 0, or -1
 * when the file has errors (all of them logged).
 */
int corsd_reload_init(struct corsd_daemon *d);
/* Start the reload thread; d->server must be open.  Return 0 or -1. */
int corsd_reload_start(struct corsd_daemon *d);
/* Stop and join the reload thread (a reload under way completes). */
void corsd_reload_stop(void);
/* Free the snapshot; no reader may remain. */
void corsd_reload_release(void);

/*
 * Ask the reload thread for a reload that starts after this call.
 * Requests made while one runs are served by a single later reload.
 * Return: a ticket for corsd_reload_wait().
 */
uint64_t corsd_reload_request(void);
/*
 * The outcome of the reload that served @ticket, without waiting.
 * Return: 0 with *res filled in; -CORSD_EAGAIN while it has not run;
 * -CORSD_UNAVAIL once the reload thread has stopped.
 */
int corsd_reload_result(uint64_t ticket, struct corsd_reload_result *res);
/* Readable (an eventfd, never drained here) after each reload finishes
 * and at stop; the caller reads it to re-arm.  -1 before start. */
int corsd_reload_done_fd(void);

void corsd_reload_get_stats(struct corsd_reload_stats *out);
uint64_t corsd_reload_generation(void);
/* The identity of the file the snapshot in force was loaded from. */
void corsd_reload_loaded_id(struct corsd_file_id *id);

/*
 * The corsd_server_decide_fn: decide @req on the snapshot in force.
 * Caller: a serving thread registered with urcu_memb, outside any
 * read-side critical section.
 */
uint64_t corsd_reload_decide(void *ctx, const struct corsd_request *req,
			     struct corsd_answer *ans);

#endif /* CORSD_RELOAD_INT_H */
