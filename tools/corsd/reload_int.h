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

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corsd_types.h"

#define CORSD_RELOAD_ERROR_MAX 512

struct corsd_daemon;
struct corsd_snapshot;

/*
 * What a file's content is, as far as stat(2) can tell without reading
 * it: a change in any field means "maybe new content".  The reloader
 * records the identity of the file each snapshot was loaded from; the
 * watcher compares against it.
 */
struct corsd_file_id {
	uint64_t dev;
	uint64_t ino;
	int64_t mtime_sec;
	int64_t mtime_nsec;
	int64_t size;
};

/* stat(2) @path, following symlinks.  Return: false when there is no
 * file (yet); *id is zeroed then. */
bool corsd_file_id_get(const char *path, struct corsd_file_id *id);
bool corsd_file_id_equal(const struct corsd_file_id *a,
			 const struct corsd_file_id *b);

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
 * The reloader's state, a part of struct corsd_daemon (d->reloader).
 * current is the snapshot in force: RCU-protected (see the rule above).
 * Everything from lock to loaded_id is under lock: requested counts the
 * requests filed, served the highest request a finished reload has
 * answered (a request is served by a reload that starts after it was
 * filed).  A finished reload writes done_fd, which the control thread
 * polls.  thread and running belong to the main thread (start, stop).
 */
struct corsd_reloader {
	struct corsd_snapshot *current;

	pthread_mutex_t lock;
	pthread_cond_t kick; /* the reload thread waits here */
	uint64_t requested;
	uint64_t served;
	bool stop;
	struct corsd_reload_result last;
	struct corsd_reload_stats stats;
	struct corsd_file_id loaded_id;

	pthread_t thread;
	bool running;
	int done_fd; /* eventfd: a reload finished; -1 before start */
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
void corsd_reload_stop(struct corsd_daemon *d);
/* Free the snapshot; no reader may remain. */
void corsd_reload_release(struct corsd_daemon *d);

/*
 * Ask the reload thread for a reload that starts after this call.
 * Requests made while one runs are served by a single later reload.
 * Return: a ticket for corsd_reload_wait().
 */
uint64_t corsd_reload_request(struct corsd_daemon *d);
/*
 * The outcome of the reload that served @ticket, without waiting.
 * Return: 0 with *res filled in; -CORSD_EAGAIN while it has not run;
 * -CORSD_UNAVAIL once the reload thread has stopped.
 */
int corsd_reload_result(struct corsd_daemon *d, uint64_t ticket,
			struct corsd_reload_result *res);
/* Readable (an eventfd, never drained here) after each reload finishes
 * and at stop; the caller reads it to re-arm.  -1 before start. */
int corsd_reload_done_fd(struct corsd_daemon *d);

void corsd_reload_get_stats(struct corsd_daemon *d,
			    struct corsd_reload_stats *out);
uint64_t corsd_reload_generation(struct corsd_daemon *d);
/* The identity of the file the snapshot in force was loaded from. */
void corsd_reload_loaded_id(struct corsd_daemon *d, struct corsd_file_id *id);

/*
 * The corsd_server_decide_fn: decide @req on the snapshot in force.
 * @ctx: the struct corsd_daemon.  Caller: a serving thread registered
 * with urcu_memb, outside any read-side critical section.
 */
uint64_t corsd_reload_decide(void *ctx, const struct corsd_request *req,
			     struct corsd_answer *ans);

#endif /* CORSD_RELOAD_INT_H */
