/*
 * register.c - the registration socket: a slot of its own (a sealed
 * memfd, ipc/abi_int.h) for every worker that connects, reclaimed the
 * moment its connection ends.
 *
 * Layer: tools/corsd.  Rule: a worker is untrusted and may be slow,
 * silent or hostile; this thread never blocks (one poll loop over the
 * stop eventfd, the non-blocking listener and the registered workers'
 * non-blocking connections) and takes nothing from a worker but the end
 * of its connection.
 *
 * Protocol.  <rundir>/<instance>.workers, AF_UNIX SOCK_STREAM, mode
 * 0660, group from --group.
 *
 *	worker: connects, and then sends nothing, ever.
 *	corsd:  at once, one struct corsd_reg_msg (ipc/abi_int.h) with the
 *		slot's memfd as SCM_RIGHTS; or, when every slot is taken,
 *		the message with idx CORSD_REG_NO_SLOT and no descriptor,
 *		and it closes the connection.
 *
 * The worker keeps the connection open for as long as it uses the slot.
 * Its end (close, exit, crash, kill -9), or any byte the worker sends,
 * retires the slot: corsd closes the connection and reclaims the slot
 * (corsd_server_slot_reclaim()); the next registration gets a new
 * memfd, whatever index it gets.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control_int.h"
#include "daemon_int.h"
#include "log_int.h"
#include "os.h"
#include "register_int.h"

#define RETRY_MS 10 /* a reclaim that had to wait is tried again this soon */

enum reg_state {
	REG_FREE,
	REG_LIVE,     /* a worker holds slot idx through fd */
	REG_RETIRING, /* fd closed; the reclaim of idx is to be retried */
};

struct reg_conn {
	enum reg_state state;
	int fd;
	uint32_t idx;
};

/* Reclaim @c's slot (server_lock) and free @c; REG_RETIRING if a
 * serving thread kept the slot too long. */
static void
conn_retire(struct corsd_daemon *d, struct reg_conn *c)
{
	int rc;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	pthread_mutex_lock(&d->server_lock);
	rc = corsd_server_slot_reclaim(d->server, c->idx);
	pthread_mutex_unlock(&d->server_lock);
	c->state = rc == -CORSD_EAGAIN ? REG_RETIRING : REG_FREE;
}

/* The connection is readable or hung up: either way the registration
 * ends (a worker sends nothing).  EAGAIN: a spurious wake-up. */
static void
conn_check(struct corsd_daemon *d, struct reg_conn *c)
{
	char b;
	ssize_t n;

	do
		n = recv(c->fd, &b, 1, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	conn_retire(d, c);
}

/* Accept one worker and hand it a slot, or tell it none is free. */
static void
conn_accept(struct corsd_daemon *d, struct reg_conn *conns, unsigned n,
	    bool *full_logged)
{
	struct corsd_reg_msg m = {
		.magic = CORSD_REG_MAGIC,
		.abi_version = CORSD_ABI_VERSION,
		.idx = CORSD_REG_NO_SLOT,
	};
	struct reg_conn *c = NULL;
	int fd, memfd = -1, rc = -CORSD_EAGAIN;
	uint32_t idx = 0;

	fd = corsd_listener_accept(&d->registrar);
	if (fd < 0)
		return;
	for (unsigned i = 0; i < n && !c; i++)
		if (conns[i].state == REG_FREE)
			c = &conns[i];
	pthread_mutex_lock(&d->server_lock);
	m.epoch = corsd_server_epoch(d->server);
	m.slot_size = corsd_server_slot_size(d->server);
	if (c)
		rc = corsd_server_slot_claim(d->server, &memfd, &idx);
	pthread_mutex_unlock(&d->server_lock);
	if (rc) {
		if (!*full_logged)
			corsd_log(LOG_WARNING,
				  "a worker found no free slot (%s); raise "
				  "--slots (%u)",
				  corsd_strerror(rc), d->slots);
		*full_logged = true;
		corsd_os_send_fd(fd, &m, sizeof(m), -1);
		close(fd);
		return;
	}
	*full_logged = false;
	m.idx = idx;
	c->state = REG_LIVE;
	c->fd = fd;
	c->idx = idx;
	/* A fresh connection's send buffer is empty: the message goes at
	 * once or the worker is gone. */
	if (corsd_os_send_fd(fd, &m, sizeof(m), memfd) != 0)
		conn_retire(d, c);
	/* corsd's mapping keeps the memory; the worker has its own copy
	 * of the descriptor. */
	close(memfd);
}

static void *
register_main(void *arg)
{
	struct corsd_daemon *d = arg;
	unsigned n = d->slots, i, np;
	struct reg_conn *conns = calloc(n, sizeof(*conns));
	struct pollfd *pfd = calloc(n + 2, sizeof(*pfd));
	struct reg_conn **map = calloc(n + 2, sizeof(*map));
	bool full_logged = false, retiring;
	int rc;

	if (!conns || !pfd || !map) {
		corsd_log(LOG_ERR, "registration socket: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		conns[i].fd = -1;
	for (;;) {
		pfd[0] = (struct pollfd){.fd = d->stop_fd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = d->registrar.listen_fd,
					 .events = POLLIN};
		np = 2;
		retiring = false;
		for (i = 0; i < n; i++) {
			if (conns[i].state == REG_RETIRING) {
				retiring = true;
				continue;
			}
			if (conns[i].state != REG_LIVE)
				continue;
			map[np] = &conns[i];
			pfd[np++] = (struct pollfd){.fd = conns[i].fd,
						    .events = POLLIN};
		}
		rc = poll(pfd, np, retiring ? RETRY_MS : -1);
		if (rc < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		for (i = 2; rc > 0 && i < np; i++)
			if (pfd[i].revents)
				conn_check(d, map[i]);
		for (i = 0; i < n; i++)
			if (conns[i].state == REG_RETIRING)
				conn_retire(d, &conns[i]);
		if (rc > 0 && pfd[1].revents)
			conn_accept(d, conns, n, &full_logged);
	}
	/* Stopping: the serving threads are joined, and corsd_server_close()
	 * unmaps every slot; the workers see their connections end. */
	for (i = 0; i < n; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
out:
	free(conns);
	free(pfd);
	free(map);
	return NULL;
}

int
corsd_register_open(struct corsd_daemon *d)
{
	int fd =
		corsd_control_listen(d, d->workers_path, "registration socket");

	if (fd < 0)
		return -1;
	d->registrar.listen_fd = fd;
	return 0;
}

int
corsd_register_start(struct corsd_daemon *d)
{
	return corsd_listener_start(d, &d->registrar, register_main,
				    "corsd-register", "registration");
}

void
corsd_register_join(struct corsd_daemon *d)
{
	corsd_listener_join(&d->registrar);
}

void
corsd_register_close(struct corsd_daemon *d)
{
	corsd_listener_close(&d->registrar, d->workers_path);
}
