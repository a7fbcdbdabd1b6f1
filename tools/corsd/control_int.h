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

/* A socket served by a thread of its own: the control socket's state
 * (d->control) and the registration socket's (d->registrar), parts of
 * struct corsd_daemon.  Open, start, join and close are the main
 * thread's; the serving thread reads listen_fd while it runs. */
struct corsd_listener {
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
/* Accept a connection on @l, non-blocking and close-on-exec; -1 when
 * none (after a short back-off when out of descriptors). */
int corsd_listener_accept(struct corsd_listener *l);
/* Start @l's thread, running @fn(d), named @name (at most 15 bytes);
 * @what names it in the log.  Return 0 or -1. */
int corsd_listener_start(struct corsd_daemon *d, struct corsd_listener *l,
			 void *(*fn)(void *), const char *name,
			 const char *what);
/* Join @l's thread, if it runs. */
void corsd_listener_join(struct corsd_listener *l);
/* Close @l's socket, if open, and unlink @path. */
void corsd_listener_close(struct corsd_listener *l, const char *path);
/* Start the thread that serves it.  Return 0 or -1. */
int corsd_control_start(struct corsd_daemon *d);
/* Join the thread; corsd_daemon_signal_stop() first. */
void corsd_control_join(struct corsd_daemon *d);
/* Close the socket and unlink its path. */
void corsd_control_close(struct corsd_daemon *d);

#endif /* CORSD_CONTROL_INT_H */
