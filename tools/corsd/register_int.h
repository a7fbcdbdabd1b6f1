/*
 * register_int.h - the registration socket, <rundir>/<instance>.workers:
 * how a worker gets a slot of its own and how corsd learns it is gone.
 *
 * Layer: tools/corsd, internal.  Rule: one thread serves the socket, one
 * poll loop over the listener and every registered worker's connection,
 * never blocking; the protocol is described at the top of register.c.
 */
#ifndef CORSD_REGISTER_INT_H
#define CORSD_REGISTER_INT_H

struct corsd_daemon;

/* Its state is a struct corsd_listener (control_int.h), d->registrar. */

/* Create, bind (0660, d->gid) and listen, replacing a stale socket.
 * Main thread, before any other thread.  Return 0, or -1 (logged). */
int corsd_register_open(struct corsd_daemon *d);
/* Start the thread that serves it.  Return 0 or -1. */
int corsd_register_start(struct corsd_daemon *d);
/* Join the thread; corsd_daemon_signal_stop() first.  Every slot it
 * claimed is reclaimed by then. */
void corsd_register_join(struct corsd_daemon *d);
/* Close the socket and unlink its path. */
void corsd_register_close(struct corsd_daemon *d);

#endif /* CORSD_REGISTER_INT_H */
