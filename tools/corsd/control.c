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
 *		 "workers":{"active":N,"ring_depth":N,"requests":N,"hits":N,
 *			    "misses":N,"timeouts":N,"sleeps":N},
 *		 "latency_us":{"<1":N,"<2":N,"<4":N,...,">=262144":N}}
 *		verdict and reason names are corsd_verdict_name() and
 *		corsd_reason_name(); latency bucket i counts worker round
 *		trips under 2^i us, the last one everything slower.
 *
 * Anything else: {"ok":false,"error":"unknown command '...'"}.  When
 * corsd stops, connections still open are closed without an answer.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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
#define LISTEN_BACKLOG 16
#define CONN_MAX       32

/* ---- a bounded JSON writer -------------------------------------------- */

struct jbuf {
	char p[ANSWER_MAX];
	size_t len;
	bool full;
};

static void
jb_raw(struct jbuf *b, const char *s, size_t n)
{
	if (b->full || n > sizeof(b->p) - b->len) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void __attribute__((format(printf, 2, 3)))
jb_printf(struct jbuf *b, const char *fmt, ...)
{
	size_t room = sizeof(b->p) - b->len;
	va_list ap;
	int n;

	if (b->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		b->full = true;
	else
		b->len += (size_t)n;
}

/* Length of the well-formed UTF-8 sequence at @s, 0 if there is none. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp, min;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, cp = s[0] & 0x1fu, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, cp = s[0] & 0x0fu, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, cp = s[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* The inside of a JSON string.  Text quoted from policy files or from a
 * client may be anything: bytes that are not UTF-8 become U+FFFD. */
static void
jb_escaped(struct jbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char esc[8];
	size_t i = 0, k;

	while (i < n) {
		if (u[i] == '"' || u[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)u[i];
			jb_raw(b, esc, 2);
			i++;
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", u[i]);
			jb_raw(b, esc, 6);
			i++;
		} else if ((k = utf8_seq(u + i, n - i)) > 0) {
			jb_raw(b, s + i, k);
			i += k;
		} else {
			jb_raw(b, "\\ufffd", 6);
			i++;
		}
	}
}

static void
jb_str(struct jbuf *b, const char *s, size_t n)
{
	jb_raw(b, "\"", 1);
	jb_escaped(b, s, n);
	jb_raw(b, "\"", 1);
}

static void
jb_cstr(struct jbuf *b, const char *s)
{
	jb_str(b, s, strlen(s));
}

/* ---- commands ----------------------------------------------------------- */

/* The answer to "reload" once the reload thread has an outcome (@rc as
 * from corsd_reload_result(); -CORSD_ETIMEDOUT when we gave up). */
static void
answer_reload(struct corsd_daemon *d, struct jbuf *b, int rc,
	      const struct corsd_reload_result *res)
{
	if (rc == 0 && res->ok) {
		jb_printf(b, "{\"ok\":true,\"generation\":%llu}",
			  (unsigned long long)res->generation);
		return;
	}
	jb_printf(b, "{\"ok\":false,\"error\":");
	if (rc == 0)
		jb_cstr(b, res->error);
	else if (rc == -CORSD_ETIMEDOUT)
		jb_cstr(b, "the reload did not finish within 60 s; it goes on "
			   "and its outcome will show in stats");
	else
		jb_cstr(b, "corsd is stopping");
	jb_printf(b, ",\"generation\":%llu}",
		  (unsigned long long)(rc == 0 ? res->generation
					       : corsd_reload_generation(d)));
}

static void
jb_time(struct jbuf *b, const char *key, int64_t t)
{
	if (t)
		jb_printf(b, ",\"%s\":%lld", key, (long long)t);
	else
		jb_printf(b, ",\"%s\":null", key);
}

static void
answer_stats(struct corsd_daemon *d, struct jbuf *b)
{
	struct corsd_reload_stats rs;
	struct corsd_serve_totals st;
	struct corsd_worker_stats ws;
	unsigned long long bound;
	uint64_t epoch;
	unsigned i;

	corsd_reload_get_stats(d, &rs);
	corsd_serve_get_totals(d, &st);
	pthread_mutex_lock(&d->server_lock);
	corsd_server_worker_stats(d->server, &ws);
	epoch = corsd_server_epoch(d->server);
	pthread_mutex_unlock(&d->server_lock);

	jb_printf(b,
		  "{\"generation\":%llu,\"epoch\":%llu,\"uptime_s\":%llu,"
		  "\"policies\":%zu,\"reloads\":%llu,\"reload_failures\":%llu,"
		  "\"last_reload_error\":",
		  (unsigned long long)rs.generation, (unsigned long long)epoch,
		  (unsigned long long)(corsd_os_now_ms() - d->start_ms) / 1000,
		  rs.policies, (unsigned long long)rs.reloads,
		  (unsigned long long)rs.failures);
	if (rs.has_error)
		jb_cstr(b, rs.last_error);
	else
		jb_raw(b, "null", 4);
	jb_time(b, "last_reload_time", rs.last_time);
	jb_time(b, "last_reload_error_time", rs.last_error_time);
	jb_printf(b,
		  ",\"served\":%llu,\"bad_requests\":%llu,"
		  "\"cache_inserts\":%llu,\"wakeups\":%llu,\"verdicts\":{",
		  (unsigned long long)st.served,
		  (unsigned long long)st.bad_requests,
		  (unsigned long long)st.cache_inserts,
		  (unsigned long long)st.wakeups);
	for (i = 0; i < CORSD_VERDICT__COUNT; i++) {
		jb_printf(b, i ? "," : "");
		jb_cstr(b, corsd_verdict_name(i));
		jb_printf(b, ":%llu", (unsigned long long)st.verdicts[i]);
	}
	jb_printf(b, "},\"reasons\":{");
	for (i = 0; i < CORSD_REASON__COUNT; i++) {
		jb_printf(b, i ? "," : "");
		jb_cstr(b, corsd_reason_name(i));
		jb_printf(b, ":%llu", (unsigned long long)st.reasons[i]);
	}
	jb_printf(b,
		  "},\"workers\":{\"active\":%llu,\"ring_depth\":%llu,"
		  "\"requests\":%llu,\"hits\":%llu,\"misses\":%llu,"
		  "\"timeouts\":%llu,\"sleeps\":%llu},\"latency_us\":{",
		  (unsigned long long)ws.active_workers,
		  (unsigned long long)ws.ring_depth,
		  (unsigned long long)ws.requests, (unsigned long long)ws.hits,
		  (unsigned long long)ws.misses,
		  (unsigned long long)ws.timeouts,
		  (unsigned long long)ws.sleeps);
	for (i = 0; i < CORSD_LAT_BUCKETS; i++) {
		if (i + 1 < CORSD_LAT_BUCKETS) {
			bound = 1ull << i;
			jb_printf(b, "%s\"<%llu\":%llu", i ? "," : "", bound,
				  (unsigned long long)ws.lat[i]);
		} else {
			bound = 1ull << (i - 1);
			jb_printf(b, ",\">=%llu\":%llu", bound,
				  (unsigned long long)ws.lat[i]);
		}
	}
	jb_printf(b, "}}");
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
	char cmd[CMD_MAX + 1];
	struct jbuf out;
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

	while (c->off < c->out.len) {
		n = send(c->fd, c->out.p + c->off, c->out.len - c->off,
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

/* The answer is in c->out: end it and start sending, with a fresh second
 * (a reload may have taken a while). */
static void
conn_answer(struct conn *c)
{
	if (c->out.full) {
		c->out.len = 0;
		c->out.full = false;
		jb_printf(&c->out,
			  "{\"ok\":false,\"error\":\"answer too long\"}");
	}
	jb_raw(&c->out, "\n", 1);
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
	answer_reload(d, &c->out, rc, &res);
	conn_answer(c);
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

	c->out.len = 0;
	c->out.full = false;
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
		answer_stats(d, &c->out);
	} else {
		jb_printf(&c->out, "{\"ok\":false,\"error\":");
		if (len == 0) {
			jb_cstr(&c->out,
				"empty command; commands: reload, stats");
		} else {
			jb_printf(&c->out, "\"unknown command '");
			jb_escaped(&c->out, cmd, len);
			jb_printf(&c->out, "'; commands: reload, stats\"");
		}
		jb_printf(&c->out, "}");
	}
	conn_answer(c);
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
	fd = accept4(d->control.listen_fd, NULL, NULL,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/* Out of descriptors: back off instead of spinning on a
		 * listening socket that stays readable. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			poll(NULL, 0, 100);
		return;
	}
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
		answer_reload(d, &c->out, -CORSD_ETIMEDOUT, NULL);
		conn_answer(c);
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
corsd_control_open(struct corsd_daemon *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old_mask;
	int fd, rc;

	if (strlen(d->sock_path) >= sizeof(sa.sun_path)) {
		corsd_log(LOG_ERR, "control socket path '%s' is too long",
			  d->sock_path);
		return -1;
	}
	memcpy(sa.sun_path, d->sock_path, strlen(d->sock_path));

	/* We hold the instance lock, so a socket here is a dead corsd's;
	 * anything else is not ours to remove. */
	if (lstat(d->sock_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			corsd_log(LOG_ERR,
				  "'%s' exists and is not a socket; not "
				  "replacing it",
				  d->sock_path);
			return -1;
		}
		if (unlink(d->sock_path) != 0) {
			corsd_log(LOG_ERR,
				  "cannot remove stale socket '%s': %s",
				  d->sock_path, strerror(errno));
			return -1;
		}
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		corsd_log(LOG_ERR, "cannot create the control socket: %s",
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
		corsd_log(LOG_ERR, "cannot bind the control socket '%s': %s",
			  d->sock_path, strerror(errno));
		close(fd);
		return -1;
	}
	if ((d->gid != (gid_t)-1 && chown(d->sock_path, (uid_t)-1, d->gid)) ||
	    chmod(d->sock_path, 0660) != 0) {
		corsd_log(LOG_ERR,
			  "cannot set the owner or mode of the control socket "
			  "'%s': %s",
			  d->sock_path, strerror(errno));
		close(fd);
		unlink(d->sock_path);
		return -1;
	}
	if (listen(fd, LISTEN_BACKLOG) != 0) {
		corsd_log(LOG_ERR, "cannot listen on '%s': %s", d->sock_path,
			  strerror(errno));
		close(fd);
		unlink(d->sock_path);
		return -1;
	}
	d->control.listen_fd = fd;
	return 0;
}

int
corsd_control_start(struct corsd_daemon *d)
{
	int rc = pthread_create(&d->control.thread, NULL, control_main, d);

	if (rc != 0) {
		corsd_log(LOG_ERR, "cannot start the control thread: %s",
			  strerror(rc));
		return -1;
	}
	pthread_setname_np(d->control.thread, "corsd-control");
	d->control.running = true;
	return 0;
}

void
corsd_control_join(struct corsd_daemon *d)
{
	if (!d->control.running)
		return;
	pthread_join(d->control.thread, NULL);
	d->control.running = false;
}

void
corsd_control_close(struct corsd_daemon *d)
{
	if (d->control.listen_fd < 0)
		return;
	close(d->control.listen_fd);
	d->control.listen_fd = -1;
	unlink(d->sock_path);
}
