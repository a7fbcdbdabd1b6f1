/*
 * daemon_int.h - what the parts of the corsd daemon share: its
 * configuration and the handles every thread needs.
 *
 * Layer: tools/corsd, internal.  Rule: struct corsd_daemon is filled in
 * by the main thread before any other thread starts and is read-only
 * afterwards, except the fields whose comment says otherwise.
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

#include "server_int.h"

#define CORSD_THREADS_MAX	64u
#define CORSD_CACHE_ENTRIES_MAX (1u << 20)
#define CORSD_CACHE_TTL_MAX_MS	86400000u
#define CORSD_SPIN_US_MAX	1000000u
#define CORSD_SUN_PATH_MAX	sizeof(((struct sockaddr_un *)0)->sun_path)

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

	char rundir[PATH_MAX];
	char lock_path[PATH_MAX];
	char sock_path[CORSD_SUN_PATH_MAX];

	uint64_t start_ms; /* CLOCK_MONOTONIC at start, for uptime */

	/* Readable from the moment shutdown begins, never drained: every
	 * thread that polls adds it to its set and leaves when it fires. */
	int stop_fd;

	struct corsd_server *server;
	/* The server's calls other than serve() and kick() are meant for
	 * one housekeeping thread; the housekeeping, reload and control
	 * threads all make some, so they take turns under this lock. */
	pthread_mutex_t server_lock;
	/* Set once at shutdown; corsd_server_serve() polls it. */
	_Atomic bool stop_serving;
};

/* What a file's content is, as far as stat(2) can tell without reading
 * it: a change in any field means "maybe new content". */
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

/* Signal every polling thread that shutdown has begun. */
void corsd_daemon_signal_stop(struct corsd_daemon *d);

#endif /* CORSD_DAEMON_INT_H */
