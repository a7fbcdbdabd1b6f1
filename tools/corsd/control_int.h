/*
 * control_int.h - the control socket, <rundir>/<instance>.sock.
 *
 * Layer: tools/corsd, internal.  Rule: one thread serves the socket, one
 * connection at a time, every read and write bounded in size and time;
 * the protocol is described at the top of control.c.
 */
#ifndef CORSD_CONTROL_INT_H
#define CORSD_CONTROL_INT_H

#include <pthread.h>
#include <stdbool.h>

struct corsd_daemon;

/* The control socket's state, a part of struct corsd_daemon (d->control):
 * open, start, join and close are the main thread's; the control thread
 * reads listen_fd while it runs. */
struct corsd_control {
	int listen_fd; /* -1 when closed */
	pthread_t thread;
	bool running;
};

/* Create, bind (0660, d->gid) and listen, replacing a stale socket.
 * Main thread, before any other thread (it sets the umask around bind).
 * Return 0, or -1 with the reason logged. */
int corsd_control_open(struct corsd_daemon *d);
/* The socket part of it, for any of corsd's sockets: a listening
 * non-blocking AF_UNIX stream socket at @path, 0660 with d->gid, a
 * stale socket there replaced; @what names it in the log.  Main thread,
 * before any other thread (the umask).  Return the descriptor, or -1
 * with the reason logged. */
int corsd_control_listen(const struct corsd_daemon *d, const char *path,
			 const char *what);
/* Start the thread that serves it.  Return 0 or -1. */
int corsd_control_start(struct corsd_daemon *d);
/* Join the thread; corsd_daemon_signal_stop() first. */
void corsd_control_join(struct corsd_daemon *d);
/* Close the socket and unlink its path. */
void corsd_control_close(struct corsd_daemon *d);

#endif /* CORSD_CONTROL_INT_H */
