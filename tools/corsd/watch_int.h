/*
 * watch_int.h - --watch: reload when the policy file's content changes.
 *
 * Layer: tools/corsd, internal.  Rule: the watcher only files reload
 * requests; the reload thread does the reloading.
 */
#ifndef CORSD_WATCH_INT_H
#define CORSD_WATCH_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>

#include "reload_int.h"

struct corsd_daemon;

/*
 * The watcher's state, a part of struct corsd_daemon (d->watcher): the
 * watch thread's alone once it runs; start and join are the main
 * thread's.
 */
struct corsd_watcher {
	struct corsd_daemon *d;
	int fd; /* inotify */
	/* The directory named by the policy path, and the names in it
	 * that matter: the file's and the first component of a relative
	 * symlink target (""). */
	int dir_wd;
	char dir[PATH_MAX];
	char name[NAME_MAX + 1];
	char via[NAME_MAX + 1];
	/* Where the resolved file lives when the path is a symlink; may
	 * be the same watch as dir_wd.  -1 when the path is no symlink. */
	int tgt_wd;
	char tgt_dir[PATH_MAX];
	char tgt_name[NAME_MAX + 1];
	struct corsd_file_id seen; /* zeroes: no file */
	bool dir_lost_logged;
	/* The path is a symlink whose target cannot be resolved or
	 * watched: nothing would tell us when it comes back. */
	bool dangling;

	pthread_t thread;
	bool running;
};

/* Set up the inotify watches and start the watch thread.  Return 0, or
 * -1 with the reason logged (e.g. the directory cannot be watched). */
int corsd_watch_start(struct corsd_daemon *d);
/* Join the thread and close inotify; corsd_daemon_signal_stop() first. */
void corsd_watch_join(struct corsd_daemon *d);

#endif /* CORSD_WATCH_INT_H */
