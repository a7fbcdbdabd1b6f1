/*
 * watch_int.h - --watch: reload when the policy file's content changes.
 *
 * Layer: tools/corsd, internal.  Rule: the watcher only files reload
 * requests; the reload thread does the reloading.
 */
#ifndef CORSD_WATCH_INT_H
#define CORSD_WATCH_INT_H

#include "daemon_int.h"

/* Set up the inotify watches and start the watch thread.  Return 0, or
 * -1 with the reason logged (e.g. the directory cannot be watched). */
int corsd_watch_start(struct corsd_daemon *d);
/* Join the thread and close inotify; corsd_daemon_signal_stop() first. */
void corsd_watch_join(void);

#endif /* CORSD_WATCH_INT_H */
