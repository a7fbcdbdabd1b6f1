/*
 * control_client.c - corsctl's control-socket client: reload and stats,
 * one line to corsd's control socket, one JSON line back (the protocol is
 * written down at the top of tools/corsd/control.c), read with jansson.
 *
 * Layer: tools/corsctl.  The socket lives in corsd's runtime directory
 * (corsd_os_rundir(): $CORSD_RUNDIR, else /run/corsd) as
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

#include "../common/json_int.h"
#include "answer_int.h"
#include "control_client_int.h"
#include "os.h"

#define REPLY_MAX (256 * 1024)

static int
ask(const char *instance, const char *what, char *buf, size_t size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *dir = corsd_os_rundir();
	struct timeval tv = {30, 0};
	size_t got = 0;
	ssize_t n;
	int fd, len;

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

/* One value of the answer, after its "path: ": strings decoded and
 * written for a terminal (bytes outside printable ASCII as \xHH), other
 * values as JSON. */
static void
print_value(const json_t *v)
{
	char *text;

	if (json_is_string(v)) {
		corsctl_text_str(stdout, json_string_value(v),
				 json_string_length(v));
		putchar('\n');
		return;
	}
	text = json_dumps(v, CORSD_JSON_DUMP_FLAGS | JSON_ENCODE_ANY);
	printf("%s\n", text ? text : "?");
	free(text);
}

/* Print the members of @o as "a.b: value" lines, objects flattened into
 * dotted paths under @prefix (@len bytes of it in use). */
static void
flatten(json_t *o, char *prefix, size_t size, size_t len)
{
	for (void *it = json_object_iter(o); it;
	     it = json_object_iter_next(o, it)) {
		const char *key = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it);
		int n = snprintf(prefix + len, size - len, "%s%s",
				 len ? "." : "", key);

		if (n < 0 || (size_t)n >= size - len)
			n = 0; /* a path too long for the buffer: cut */
		if (json_is_object(v)) {
			flatten(v, prefix, size, len + (size_t)n);
		} else {
			corsctl_text_str(stdout, prefix, len + (size_t)n);
			fputs(": ", stdout);
			print_value(v);
		}
		prefix[len] = '\0';
	}
}

static void
print_flat(json_t *o)
{
	char prefix[512] = "";

	flatten(o, prefix, sizeof(prefix), 0);
}

int
corsctl_control_command(const char *instance, const char *what, bool json)
{
	char *buf = malloc(REPLY_MAX);
	char err[256];
	json_t *reply = NULL, *ok;
	int rc = 1;

	if (!instance || !instance[0])
		instance = "default";
	if (!buf) {
		fprintf(stderr, "corsctl: out of memory\n");
		return 1;
	}
	if (ask(instance, what, buf, REPLY_MAX) != 0)
		goto out;
	/* One line: the answer ends at its newline. */
	reply = corsd_json_parse(buf, strcspn(buf, "\n"), err, sizeof(err));
	if (!reply || !json_is_object(reply)) {
		fprintf(stderr,
			"corsctl: corsd instance '%s' answered '%s' with "
			"%s%s\n",
			instance, what,
			reply ? "a JSON value that is not an object"
			      : "text that is not JSON: ",
			reply ? "" : err);
		goto out;
	}
	ok = json_object_get(reply, "ok");
	if (!strcmp(what, "reload") && !json_is_boolean(ok)) {
		fprintf(stderr,
			"corsctl: corsd instance '%s' answered 'reload' "
			"without a boolean \"ok\"\n",
			instance);
		goto out;
	}
	if (!strcmp(what, "reload") && !json_is_true(ok)) {
		fprintf(stderr, "corsctl: corsd kept its running "
				"policy; the reload was refused:\n");
		print_flat(reply);
		goto out;
	}
	if (json) {
		if (corsd_json_print(stdout, json_incref(reply)) != 0)
			goto out;
	} else {
		if (!strcmp(what, "reload"))
			printf("reloaded\n");
		print_flat(reply);
	}
	rc = 0;
out:
	json_decref(reply);
	free(buf);
	return rc;
}
