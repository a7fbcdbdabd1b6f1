/*
 * control.c - the control socket: reload and statistics on request.
 *
 * Layer: tools/corsd.  Rule: a client of this socket is untrusted and
 * may be slow, silent or hostile; it gets a bounded read, a bounded
 * write and a bounded time, and can never block the daemon: this thread
 * serves no requests, never blocks (one poll loop over non-blocking
 * sockets, the stop eventfd and the reload thread's eventfd), and one
 * stalled client cannot delay another's answer.
 *
 * Protocol.  <rundir>/<instance>.sock, AF_UNIX SOCK_STREAM, mode 0660,
 * group from --group.  One connection carries one exchange:
 *
 *	client: a command, ended by "\n" (or by shutting down its side);
 *		at most 256 bytes before the newline; "\r" before it and
 *		blanks around the command are ignored.
 *	corsd:  one JSON object on one line, ended by "\n"; then it
 *		closes the connection.
 *
 * A command line longer than 256 bytes, or one not complete within 1 s of
 * the connection, is dropped: the connection is closed without an answer.
 * An answer not taken within 1 s is dropped too.  Up to 32 connections
 * are served at once; more wait in the listen backlog.  Commands:
 *
 *	reload	reload the policy file now and wait for the outcome (60 s
 *		at most; after that, an error says it goes on):
 *		{"ok":true,"generation":N}
 *		{"ok":false,"error":"FILE:L:C: error: ... (1 of 3 errors)",
 *		 "generation":N}	(N: the generation still in force)
 *	stats	{"generation":N,"epoch":E,"uptime_s":S,"policies":N,
 *		 "reloads":N,"reload_failures":N,
 *		 "last_reload_error":null|"...",	(cleared by a success)
 *		 "last_reload_time":null|T,		(unix time, any outcome)
 *		 "last_reload_error_time":null|T,
 *		 "served":N,"bad_requests":N,"cache_inserts":N,"wakeups":N,
 *		 "verdicts":{"not-cors":N,"allow":N,...},
 *		 "reasons":{"allowed":N,...},
 *		 "workers":{"active":N,"pending":N,"requests":N,"hits":N,
 *			    "misses":N,"timeouts":N,"sleeps":N,
 *			    "withheld":N},
 *		 "latency_us":{"<1":N,"<2":N,"<4":N,...,">=262144":N}}
 *		verdict and reason names are corsd_verdict_name() and
 *		corsd_reason_name(); the counters are ipc/tbl_stats.h's
 *		(workers.pending: requests posted to slots and not yet
 *		taken by a serving thread); latency bucket i counts worker
 *		round trips under 2^i us, the last one everything slower.
 *
 * Anything else: {"ok":false,"error":"unknown command '...'"}.  When
 * corsd stops, connections still open are closed without an answer.
 * Answers are written by jansson (tools/common/json.c); text that is not
 * UTF-8 has its bytes from 0x80 up written as \xHH.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/json_int.h"
#include "control_int.h"
#include "daemon_int.h"
#include "log_int.h"
#include "os.h"
#include "reload_int.h"
#include "serve_int.h"

#define CMD_MAX	       256
#define IO_TIMEOUT_MS  1000u
#define RELOAD_WAIT_MS 60000u
#define ANSWER_MAX     8192
#define LISTEN_BACKLOG 128
#define CONN_MAX       32

/* ---- commands ----------------------------------------------------------- */

/* Set @key of @o to @v, a new reference that is taken either way.
 * Return false when memory ran out (@o or @v NULL included). */
static bool
put(json_t *o, const char *key, json_t *v)
{
	if (!o) {
		json_decref(v);
		return false;
	}
	return json_object_set_new(o, key, v) == 0;
}

/* @o when every put() into it succeeded (@ok), else NULL. */
static json_t *
done(json_t *o, bool ok)
{
	if (ok)
		return o;
	json_decref(o);
	return NULL;
}

static json_t *
counter(uint64_t n)
{
	return json_integer((json_int_t)n);
}

/* The answer to "reload" once the reload thread has an outcome (@rc as
 * from corsd_reload_result(); -CORSD_ETIMEDOUT when we gave up). */
static json_t *
answer_reload(struct corsd_daemon *d, int rc,
	      const struct corsd_reload_result *res)
{
	json_t *o = json_object();
	const char *why;
	bool ok = true;

	if (rc == 0 && res->ok) {
		ok &= put(o, "ok", json_true());
		ok &= put(o, "generation", counter(res->generation));
		return done(o, ok);
	}
	if (rc == 0)
		why = res->error;
	else if (rc == -CORSD_ETIMEDOUT)
		why = "the reload did not finish within 60 s; it goes on and "
		      "its outcome will show in stats";
	else
		why = "corsd is stopping";
	ok &= put(o, "ok", json_false());
	ok &= put(o, "error", corsd_json_bytes(why, strlen(why)));
	ok &= put(o, "generation",
		  counter(rc == 0 ? res->generation
				  : corsd_reload_generation(d)));
	return done(o, ok);
}

/* A unix time, or null when it never happened. */
static json_t *
unix_time(int64_t t)
{
	return t ? json_integer((json_int_t)t) : json_null();
}

static json_t *
answer_stats(struct corsd_daemon *d)
{
	struct corsd_reload_stats rs;
	struct corsd_serve_totals st;
	struct corsd_worker_stats ws;
	json_t *o, *verdicts, *reasons, *workers, *lat;
	uint64_t epoch;
	char bound[32];
	bool ok = true;
	unsigned i;

	corsd_reload_get_stats(d, &rs);
	corsd_serve_get_totals(d, &st);
	pthread_mutex_lock(&d->server_lock);
	corsd_server_worker_stats(d->server, &ws);
	epoch = corsd_server_epoch(d->server);
	pthread_mutex_unlock(&d->server_lock);

	o = json_object();
	ok &= put(o, "generation", counter(rs.generation));
	ok &= put(o, "epoch", counter(epoch));
	ok &= put(o, "uptime_s",
		  counter((corsd_os_now_ms() - d->start_ms) / 1000));
	ok &= put(o, "policies", counter(rs.policies));
	ok &= put(o, "reloads", counter(rs.reloads));
	ok &= put(o, "reload_failures", counter(rs.failures));
	ok &= put(o, "last_reload_error",
		  rs.has_error ? corsd_json_bytes(rs.last_error,
						  strlen(rs.last_error))
			       : json_null());
	ok &= put(o, "last_reload_time", unix_time(rs.last_time));
	ok &= put(o, "last_reload_error_time", unix_time(rs.last_error_time));
#define CORSD_STAT_SERVE(name, doc) ok &= put(o, #name, counter(st.name));
#include "tbl_stats.h"

	verdicts = json_object();
	for (i = 0; i < CORSD_VERDICT__COUNT; i++)
		ok &= put(verdicts, corsd_verdict_name(i),
			  counter(st.verdicts[i]));
	ok &= put(o, "verdicts", verdicts);
	reasons = json_object();
	for (i = 0; i < CORSD_REASON__COUNT; i++)
		ok &= put(reasons, corsd_reason_name(i),
			  counter(st.reasons[i]));
	ok &= put(o, "reasons", reasons);

	workers = json_object();
#define CORSD_STAT_SLOTS(name, doc) ok &= put(workers, #name, counter(ws.name));
#define CORSD_STAT_WORKER(name, doc) \
	ok &= put(workers, #name, counter(ws.name));
#include "tbl_stats.h"
	ok &= put(o, "workers", workers);

	/* Bucket i counts round trips under 2^i us, the last one the
	 * rest. */
	lat = json_object();
	for (i = 0; i < CORSD_LAT_BUCKETS; i++) {
		if (i + 1 < CORSD_LAT_BUCKETS)
			snprintf(bound, sizeof(bound), "<%llu", 1ull << i);
		else
			snprintf(bound, sizeof(bound), ">=%llu",
				 1ull << (i - 1));
		ok &= put(lat, bound, counter(ws.lat[i]));
	}
	ok &= put(o, "latency_us", lat);
	return done(o, ok);
}

/* {"ok":false,"error":@why}; @why is taken. */
static json_t *
answer_error(json_t *why)
{
	json_t *o = json_object();
	bool ok = true;

	ok &= put(o, "ok", json_false());
	ok &= put(o, "error", why);
	return done(o, ok);
}

/* ---- connections ------------------------------------------------------ */

enum conn_state {
	CONN_FREE,
	CONN_READ,   /* reading the command line */
	CONN_RELOAD, /* waiting for the reload thread */
	CONN_WRITE,  /* sending the answer */
};

struct conn {
	enum conn_state state;
	int fd;
	uint64_t deadline; /* ms, CLOCK_MONOTONIC */
	uint64_t ticket;   /* CONN_RELOAD */
	size_t len;	   /* CONN_READ: bytes in cmd */
	size_t off;	   /* CONN_WRITE: bytes of out sent */
	size_t out_len;	   /* CONN_WRITE: bytes in out */
	char cmd[CMD_MAX + 1];
	char out[ANSWER_MAX];
};

static void
conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->state = CONN_FREE;
}

/* Send what is left of the answer; close once it is all out. */
static void
conn_write(struct conn *c)
{
	ssize_t n;

	while (c->off < c->out_len) {
		n = send(c->fd, c->out + c->off, c->out_len - c->off,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		c->off += (size_t)n;
	}
	conn_close(c);
}

/* Write @v (released here; NULL: memory ran out) as the answer, one line, and
 * start sending it, with a fresh second (a reload may have taken a while). */
static void
conn_answer(struct conn *c, json_t *v)
{
	static const char too_long[] = "answer too long";
	static const char no_memory[] =
		"{\"ok\":false,\"error\":\"out of memory\"}\n";

	c->out_len = v ? corsd_json_format(v, c->out, sizeof(c->out)) : 0;
	if (v && c->out_len == 0)
		c->out_len =
			corsd_json_format(answer_error(json_string(too_long)),
					  c->out, sizeof(c->out));
	if (c->out_len == 0) {
		memcpy(c->out, no_memory, strlen(no_memory));
		c->out_len = strlen(no_memory);
	}
	c->state = CONN_WRITE;
	c->off = 0;
	c->deadline = corsd_os_now_ms() + IO_TIMEOUT_MS;
	conn_write(c);
}

/* Has the reload this connection waits for finished? */
static void
conn_check_reload(struct corsd_daemon *d, struct conn *c)
{
	struct corsd_reload_result res;
	int rc = corsd_reload_result(d, c->ticket, &res);

	if (rc == -CORSD_EAGAIN)
		return;
	conn_answer(c, answer_reload(d, rc, &res));
}

static void
conn_command(struct corsd_daemon *d, struct conn *c, size_t len)
{
	char *cmd = c->cmd;

	while (len > 0 && (cmd[len - 1] == '\r' || cmd[len - 1] == ' ' ||
			   cmd[len - 1] == '\t'))
		len--;
	while (len > 0 && (cmd[0] == ' ' || cmd[0] == '\t'))
		cmd++, len--;

	if (len == 6 && memcmp(cmd, "reload", 6) == 0) {
		corsd_log(LOG_INFO, "control socket: reloading %s",
			  d->policy_name);
		c->ticket = corsd_reload_request(d);
		c->state = CONN_RELOAD;
		c->deadline = corsd_os_now_ms() + RELOAD_WAIT_MS;
		conn_check_reload(d, c);
		return;
	}
	if (len == 5 && memcmp(cmd, "stats", 5) == 0) {
		conn_answer(c, answer_stats(d));
	} else if (len == 0) {
		conn_answer(c,
			    answer_error(json_string(
				    "empty command; commands: reload, stats")));
	} else {
		/* The command as sent, whatever its bytes (a NUL too):
		 * CMD_MAX bounds it. */
		static const char pre[] = "unknown command '",
				  post[] = "'; commands: reload, stats";
		char why[sizeof(pre) + CMD_MAX + sizeof(post)];
		size_t n = 0;

		memcpy(why, pre, sizeof(pre) - 1);
		n += sizeof(pre) - 1;
		memcpy(why + n, cmd, len);
		n += len;
		memcpy(why + n, post, sizeof(post) - 1);
		n += sizeof(post) - 1;
		conn_answer(c, answer_error(corsd_json_bytes(why, n)));
	}
}

/* Read what the client sent; act on a complete line. */
static void
conn_read(struct corsd_daemon *d, struct conn *c)
{
	ssize_t n;
	char *nl;

	for (;;) {
		/* At most one byte past CMD_MAX: enough to tell that a
		 * line without its newline is too long. */
		n = recv(c->fd, c->cmd + c->len, CMD_MAX + 1 - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0 || (n == 0 && c->len == 0)) {
			conn_close(c);
			return;
		}
		if (n == 0) { /* shut down after a command */
			conn_command(d, c, c->len);
			return;
		}
		nl = memchr(c->cmd + c->len, '\n', (size_t)n);
		if (nl) {
			conn_command(d, c, (size_t)(nl - c->cmd));
			return;
		}
		c->len += (size_t)n;
		if (c->len > CMD_MAX) {
			conn_close(c); /* too long: dropped */
			return;
		}
	}
}

static void
conn_accept(struct corsd_daemon *d, struct conn *conns)
{
	struct conn *c = NULL;
	unsigned i;
	int fd;

	for (i = 0; i < CONN_MAX && !c; i++)
		if (conns[i].state == CONN_FREE)
			c = &conns[i];
	if (!c)
		return;
	fd = corsd_listener_accept(&d->control);
	if (fd < 0)
		return;
	c->fd = fd;
	c->state = CONN_READ;
	c->len = 0;
	c->deadline = corsd_os_now_ms() + IO_TIMEOUT_MS;
}

/* A connection out of time: dropped, except that a reload gets its
 * answer even when it took too long. */
static void
conn_expire(struct corsd_daemon *d, struct conn *c)
{
	if (c->state == CONN_RELOAD) {
		conn_answer(c, answer_reload(d, -CORSD_ETIMEDOUT, NULL));
	} else {
		conn_close(c);
	}
}

/*
 * One thread, up to CONN_MAX connections at once, each with its own
 * deadline: a client that stalls costs a slot for a second, never the
 * others' answers.  The listening socket is not polled while every slot
 * is taken; the kernel's backlog holds the rest.
 */
static void *
control_main(void *arg)
{
	struct corsd_daemon *d = arg;
	struct pollfd pfd[3 + CONN_MAX];
	struct conn *map[3 + CONN_MAX];
	struct conn *conns;
	uint64_t now, next;
	unsigned i, n, nfree;
	int rc;

	conns = calloc(CONN_MAX, sizeof(*conns));
	if (!conns) {
		corsd_log(LOG_ERR, "control socket: out of memory");
		return NULL;
	}
	for (i = 0; i < CONN_MAX; i++)
		conns[i].fd = -1;
	for (;;) {
		now = corsd_os_now_ms();
		next = now + 1000;
		pfd[0] = (struct pollfd){.fd = d->stop_fd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = corsd_reload_done_fd(d),
					 .events = POLLIN};
		n = 2;
		nfree = 0;
		for (i = 0; i < CONN_MAX; i++) {
			struct conn *c = &conns[i];

			if (c->state == CONN_FREE) {
				nfree++;
				continue;
			}
			if (c->deadline < next)
				next = c->deadline;
			map[n] = c;
			/* CONN_RELOAD: no events, but a hang-up still
			 * shows in revents. */
			pfd[n].fd = c->fd;
			pfd[n].events = 0;
			if (c->state == CONN_READ)
				pfd[n].events = POLLIN;
			else if (c->state == CONN_WRITE)
				pfd[n].events = POLLOUT;
			pfd[n++].revents = 0;
		}
		if (nfree) {
			map[n] = NULL;
			pfd[n++] = (struct pollfd){.fd = d->control.listen_fd,
						   .events = POLLIN};
		}
		rc = poll(pfd, n, next > now ? (int)(next - now) : 0);
		if (rc < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN) {
			uint64_t v;

			if (read(pfd[1].fd, &v, sizeof(v)) < 0 &&
			    errno != EAGAIN)
				break;
			for (i = 0; i < CONN_MAX; i++)
				if (conns[i].state == CONN_RELOAD)
					conn_check_reload(d, &conns[i]);
		}
		for (i = 2; rc > 0 && i < n; i++) {
			struct conn *c = map[i];

			if (!pfd[i].revents)
				continue;
			if (!c)
				conn_accept(d, conns);
			else if (c->state == CONN_READ)
				conn_read(d, c);
			else if (c->state == CONN_WRITE)
				conn_write(c);
			else if (pfd[i].revents & (POLLHUP | POLLERR))
				conn_close(c); /* gone; the reload goes on */
		}
		now = corsd_os_now_ms();
		for (i = 0; i < CONN_MAX; i++)
			if (conns[i].state != CONN_FREE &&
			    now >= conns[i].deadline)
				conn_expire(d, &conns[i]);
	}
	for (i = 0; i < CONN_MAX; i++)
		if (conns[i].state != CONN_FREE)
			conn_close(&conns[i]);
	free(conns);
	return NULL;
}

/* ---- setup ------------------------------------------------------------ */

int
corsd_control_listen(const struct corsd_daemon *d, const char *path,
		     const char *what)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old_mask;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		corsd_log(LOG_ERR, "%s path '%s' is too long", what, path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));

	/* We hold the instance lock, so a socket here is a dead corsd's;
	 * anything else is not ours to remove. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			corsd_log(LOG_ERR,
				  "'%s' exists and is not a socket; not "
				  "replacing it",
				  path);
			return -1;
		}
		if (unlink(path) != 0) {
			corsd_log(LOG_ERR,
				  "cannot remove stale socket '%s': %s", path,
				  strerror(errno));
			return -1;
		}
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		corsd_log(LOG_ERR, "cannot create the %s: %s", what,
			  strerror(errno));
		return -1;
	}
	/* The socket file is born with the umask's mode; no moment of it
	 * may be wider than 0660.  Single-threaded here, so the process
	 * wide umask is ours to borrow. */
	old_mask = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (rc != 0) {
		corsd_log(LOG_ERR, "cannot bind the %s '%s': %s", what, path,
			  strerror(errno));
		close(fd);
		return -1;
	}
	if ((d->gid != (gid_t)-1 && chown(path, (uid_t)-1, d->gid)) ||
	    chmod(path, 0660) != 0) {
		corsd_log(LOG_ERR,
			  "cannot set the owner or mode of the %s '%s': %s",
			  what, path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (listen(fd, LISTEN_BACKLOG) != 0) {
		corsd_log(LOG_ERR, "cannot listen on '%s': %s", path,
			  strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

int
corsd_control_open(struct corsd_daemon *d)
{
	int fd = corsd_control_listen(d, d->sock_path, "control socket");

	if (fd < 0)
		return -1;
	d->control.listen_fd = fd;
	return 0;
}

int
corsd_listener_accept(struct corsd_listener *l)
{
	int fd =
		accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	/* Out of descriptors: back off instead of spinning on a listening
	 * socket that stays readable. */
	if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		       errno == ENOMEM))
		poll(NULL, 0, 100);
	return fd;
}

int
corsd_listener_start(struct corsd_daemon *d, struct corsd_listener *l,
		     void *(*fn)(void *), const char *name, const char *what)
{
	int rc = pthread_create(&l->thread, NULL, fn, d);

	if (rc != 0) {
		corsd_log(LOG_ERR, "cannot start the %s thread: %s", what,
			  strerror(rc));
		return -1;
	}
	pthread_setname_np(l->thread, name);
	l->running = true;
	return 0;
}

void
corsd_listener_join(struct corsd_listener *l)
{
	if (!l->running)
		return;
	pthread_join(l->thread, NULL);
	l->running = false;
}

void
corsd_listener_close(struct corsd_listener *l, const char *path)
{
	if (l->listen_fd < 0)
		return;
	close(l->listen_fd);
	l->listen_fd = -1;
	unlink(path);
}

int
corsd_control_start(struct corsd_daemon *d)
{
	return corsd_listener_start(d, &d->control, control_main,
				    "corsd-control", "control");
}

void
corsd_control_join(struct corsd_daemon *d)
{
	corsd_listener_join(&d->control);
}

void
corsd_control_close(struct corsd_daemon *d)
{
	corsd_listener_close(&d->control, d->sock_path);
}
