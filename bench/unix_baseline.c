/*
 * unix_baseline.c - the AF_UNIX baseline server and its client side (see
 * unix_baseline.h).
 *
 * Layer: bench (C17).  Rule: the request travels in struct
 * corsd_wire_request, packed and checked by the same corsd_wire_pack()
 * and corsd_wire_unpack() (ipc/abi_int.h) that the client and corsd use
 * for a slot; input from the socket is answered, never asserted.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "abi_int.h"
#include "ipcutil.h"
#include "unix_baseline.h"

#define WIRE_HDR offsetof(struct corsd_wire_request, bytes)

/* Pack @r into @w; return the bytes to send. */
static size_t
encode(const struct corsd_request *r, struct corsd_wire_request *w)
{
	return WIRE_HDR + corsd_wire_pack(w, r);
}

/* Point @r into the @n bytes of @w; false when they are not a request. */
static bool
decode(const struct corsd_wire_request *w, size_t n, struct corsd_request *r)
{
	return n >= WIRE_HDR && corsd_wire_unpack(w, n - WIRE_HDR, r) >= 0;
}

/* The server process: one connection at a time, blocking recv, decide,
 * send. */
static _Noreturn void
serve(int lfd, const char *policy_text)
{
	static struct corsd_wire_request w;
	static struct corsd_answer ans;
	struct corsd_snapshot *snap = compile_text(policy_text, 1);
	struct corsd_request r;
	int cfd;
	ssize_t n;

	if (!snap)
		_exit(1);
	while ((cfd = accept(lfd, NULL, NULL)) >= 0) {
		while ((n = recv(cfd, &w, sizeof(w), 0)) > 0) {
			size_t len;

			if (!decode(&w, (size_t)n, &r) ||
			    corsd_decide(snap, &r, &ans) != 0) {
				ans.verdict = CORSD_VERDICT__COUNT;
				ans.block_len = 0;
			}
			len = offsetof(struct corsd_answer, block) +
			      ans.block_len;
			if (send(cfd, &ans, len, MSG_NOSIGNAL) != (ssize_t)len)
				break;
		}
		close(cfd);
	}
	_exit(0);
}

const char *
unix_baseline_open(struct unix_baseline *u, const char *policy_text,
		   pid_t (*fork_fn)(void))
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[] = "/tmp/corsd-bench.XXXXXX";
	const char *why = NULL;
	int lfd;

	if (!mkdtemp(dir))
		return "mkdtemp failed";
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 8) != 0) {
		why = "cannot listen on an AF_UNIX socket";
		goto out;
	}
	u->pid = fork_fn();
	if (u->pid == 0)
		serve(lfd, policy_text);
	if (u->pid < 0) {
		u->pid = 0;
		why = "fork failed";
		goto out;
	}
	u->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (u->fd >= 0 &&
	    connect(u->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(u->fd);
		u->fd = -1;
	}
	if (u->fd < 0)
		why = "cannot connect to the socket server";
out:
	if (lfd >= 0)
		close(lfd);
	unlink(sa.sun_path);
	rmdir(dir);
	return why;
}

int
unix_baseline_decide(struct unix_baseline *u, const struct corsd_request *r,
		     struct corsd_answer *ans)
{
	static struct corsd_wire_request w;
	size_t len = encode(r, &w);
	ssize_t n;

	if (send(u->fd, &w, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -CORSD_EUNAVAIL;
	n = recv(u->fd, ans, sizeof(*ans), 0);
	if (n < (ssize_t)offsetof(struct corsd_answer, block))
		return -CORSD_EUNAVAIL;
	return ans->verdict < CORSD_VERDICT__COUNT ? 0 : -CORSD_EINVAL;
}
