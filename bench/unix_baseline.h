/*
 * unix_baseline.h - the AF_UNIX baseline of bench_ipc: what a user without
 * corsd's shared-memory slots would run.  A forked server process takes one
 * connection at a time on a SOCK_SEQPACKET socket, blocks in recv(),
 * decides with the engine on the same policy as corsd, and sends the
 * answer back.
 *
 * Layer: bench (C, for C++ callers too), over the engine.  Rule: a request
 * goes over the socket in corsd's own wire layout (struct
 * corsd_wire_request, ipc/abi_int.h: the header, then the present fields
 * packed in enum order) and an answer as struct corsd_answer up to the end
 * of its block, so both transports carry the same bytes.
 */
#ifndef CORSD_BENCH_UNIX_BASELINE_H
#define CORSD_BENCH_UNIX_BASELINE_H

#include <sys/types.h>

#include "corsd_engine.h"

#ifdef __cplusplus
extern "C" {
#endif

struct unix_baseline {
	pid_t pid; /* the server process; 0 when none */
	int fd;	   /* this process's connection; -1 when none */
};

#define UNIX_BASELINE_INIT { 0, -1 }

/*
 * Fork the server with @fork_fn (a fork() whose child dies with this
 * process; the child compiles @policy_text) and connect to it.  The
 * socket's path is removed once connected.  Return: NULL, or what failed;
 * u->pid is set as soon as the server runs, for the caller to reap.
 */
const char *unix_baseline_open(struct unix_baseline *u,
			       const char *policy_text, pid_t (*fork_fn)(void));

/*
 * One round trip: send @r, wait for the answer in @ans.
 * Return: 0; -CORSD_EUNAVAIL when the socket fails; -CORSD_EINVAL when the
 * server could not decode or decide the request.
 */
int unix_baseline_decide(struct unix_baseline *u, const struct corsd_request *r,
			 struct corsd_answer *ans);

#ifdef __cplusplus
}
#endif

#endif
