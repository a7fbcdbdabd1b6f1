/*
 * daemon_int.h - the daemon's one handle: its configuration, the handles
 * every thread needs, and each part's state (reloader, serving threads,
 * watcher, control socket, registrar).
 *
 * Layer: tools/corsd, internal.  Rules: the daemon's state lives here and
 * nowhere else (no part keeps a global of its own); main() owns the one
 * instance and passes it to every part.  The configuration is filled in
 * by the main thread before any other thread starts and is read-only
 * afterwards; each part's state follows the rule stated where its struct
 * is defined.
 */
#ifndef CORSD_DAEMON_INT_H
#define CORSD_DAEMON_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "control_int.h"
#include "register_int.h"
#include "reload_int.h"
#include "serve_int.h"
#include "server_int.h"
#include "watch_int.h"

#define CORSD_THREADS_MAX      64u
#define CORSD_CACHE_TTL_MAX_MS 86400000u
#define CORSD_SPIN_US_MAX      1000000u
#define CORSD_SUN_PATH_MAX     sizeof(((struct sockaddr_un *)0)->sun_path)

struct corsd_daemon {
	/* Configuration, from the command line. */
	const char *policy_path; /* absolute: the daemon runs in "/" */
	const char *policy_name; /* as the user spelled it, for logs */
	const char *instance;
	const char *group; /* NULL: the daemon's own group */
	gid_t gid;	   /* (gid_t)-1 without --group */
	bool foreground;
	bool watch;
	unsigned threads;
	unsigned slots;
	unsigned cache_entries;
	unsigned cache_ttl_ms;
	unsigned spin_us;

	char policy_abs[PATH_MAX]; /* policy_path's storage */
	char rundir[PATH_MAX];
	char lock_path[PATH_MAX];
	char sock_path[CORSD_SUN_PATH_MAX];
	char workers_path[CORSD_SUN_PATH_MAX]; /* the registration socket */

	uint64_t start_ms; /* CLOCK_MONOTONIC at start, for uptime */

	/* The main thread's alone. */
	int lock_fd;  /* the instance lock, held while running; -1 */
	int ready_fd; /* to the waiting parent, until ready; -1 */

	/* Readable from the moment shutdown begins, never drained: every
	 * thread that polls adds it to its set and leaves when it fires. */
	int stop_fd;

	struct corsd_server *server;
	/* The server's calls other than serve() and kick() are meant for
	 * one thread at a time; the housekeeping, reload, control and
	 * registration threads all make some, so they take turns under
	 * this lock. */
	pthread_mutex_t server_lock;
	/* Set once at shutdown; corsd_server_serve() polls it. */
	_Atomic bool stop_serving;

	/* The parts' own state, each documented where it is defined. */
	struct corsd_listener control;
	struct corsd_listener registrar;
	struct corsd_reloader reloader;
	struct corsd_serving serving;
	struct corsd_watcher watcher;
};

/* Signal every polling thread that shutdown has begun. */
void corsd_daemon_signal_stop(struct corsd_daemon *d);

#endif /* CORSD_DAEMON_INT_H */
