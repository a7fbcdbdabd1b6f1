/*
 * daemon.c - corsctl reload and stats: one line to corsd's control
 * socket, one JSON line back (the protocol is written down at the top of
 * tools/corsd/control.c).
 *
 * Layer: tools.  The socket lives in $CORSD_RUNDIR, else /run/corsd, as
 * <instance>.sock, where corsd puts it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon_int.h"

#define REPLY_MAX (256 * 1024)

static int
ask(const char *instance, const char *what, char *buf, size_t size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *dir = getenv("CORSD_RUNDIR");
	struct timeval tv = {30, 0};
	size_t got = 0;
	ssize_t n;
	int fd, len;

	if (!dir || !dir[0])
		dir = "/run/corsd";
	len = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", dir,
		       instance);
	if (len < 0 || (size_t)len >= sizeof(sa.sun_path)) {
		fprintf(stderr,
			"corsctl: control socket path '%s/%s.sock' is "
			"too long\n",
			dir, instance);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A reload compiles the file first: allow it time, but not forever. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr,
			"corsctl: corsd instance '%s' is not running (no "
			"control socket at '%s': %s)\n",
			instance, sa.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	if (dprintf(fd, "%s\n", what) < 0) {
		fprintf(stderr, "corsctl: cannot write to '%s': %s\n",
			sa.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	while (got + 1 < size && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	if (got == 0) {
		fprintf(stderr,
			"corsctl: corsd instance '%s' closed the "
			"control socket without answering\n",
			instance);
		return -1;
	}
	return 0;
}

/*
 * Print a JSON object as "a.b: value" lines.  The text comes from corsd,
 * but it is still read with bounds: anything unexpected ends the output.
 */
static void
flatten(const char *p)
{
	char path[512] = "";
	size_t depth_len[16];
	int depth = -1;

	while (*p) {
		if (*p == '{') {
			if (depth + 1 >= 16)
				return;
			depth_len[++depth] = strlen(path);
			p++;
		} else if (*p == '}') {
			if (depth < 0)
				return;
			path[depth_len[depth--]] = '\0';
			p++;
		} else if (*p == ',' || *p == ' ' || *p == '\n') {
			p++;
		} else if (*p == '"') {
			const char *k = ++p, *v;
			size_t base = depth >= 0 ? depth_len[depth] : 0;

			while (*p && *p != '"')
				p += p[0] == '\\' && p[1] ? 2 : 1;
			if (*p != '"' || p[1] != ':')
				return;
			snprintf(path + base, sizeof(path) - base, "%s%.*s",
				 base ? "." : "", (int)(p - k), k);
			p += 2;
			if (*p == '{')
				continue;
			v = p;
			if (*p == '"') {
				p++;
				while (*p && *p != '"')
					p += p[0] == '\\' && p[1] ? 2 : 1;
				if (*p)
					p++;
			} else {
				while (*p && *p != ',' && *p != '}')
					p++;
			}
			printf("%s: %.*s\n", path, (int)(p - v), v);
			path[base] = '\0';
		} else {
			return;
		}
	}
}

int
corsctl_control(const char *instance, const char *what, bool json)
{
	char *buf = malloc(REPLY_MAX);
	int rc = 1;

	if (!instance || !instance[0])
		instance = "default";
	if (!buf) {
		fprintf(stderr, "corsctl: out of memory\n");
		return 1;
	}
	if (ask(instance, what, buf, REPLY_MAX) != 0)
		goto out;
	buf[strcspn(buf, "\n")] = '\0';
	if (!strcmp(what, "reload")) {
		if (strstr(buf, "\"ok\":true")) {
			printf("%s\n", json ? buf : "reloaded");
			if (!json)
				flatten(buf);
			rc = 0;
		} else {
			fprintf(stderr, "corsctl: corsd kept its running "
					"policy; the reload was refused:\n");
			flatten(buf);
		}
		goto out;
	}
	if (json)
		printf("%s\n", buf);
	else
		flatten(buf);
	rc = 0;
out:
	free(buf);
	return rc;
}
