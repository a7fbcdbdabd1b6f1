/*
 * ipcutil.c - the multi-process test harness (see ipcutil.h).
 *
 * Layer: tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "abi_int.h"
#include "ipcutil.h"
#include "os.h"

void
sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

void
daemon_prepare(struct daemon *d, const char *tag)
{
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	memset(d, 0, sizeof(*d));
	snprintf(d->instance, sizeof(d->instance), "t%s%d", tag, (int)getpid());
	/* On tmpfs, as /run is on a real host: the segments are files in
	 * the runtime directory. */
	snprintf(d->rundir, sizeof(d->rundir), "%s/corsd-test-%s.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
		 d->instance);
	/* 0755: workers of other users (the group tests) traverse it;
	 * corsd refuses a directory the group or others may write. */
	if (!mkdtemp(d->rundir) || chmod(d->rundir, 0755) != 0)
		abort();
	snprintf(d->policy, sizeof(d->policy), "%s/policy.yaml", d->rundir);
	/* The tests live in build/<variant>/tests/; corsd beside them. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		abort();
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	*slash = '\0';
	if (snprintf(d->bin, sizeof(d->bin), "%s/../corsd", exe) >=
	    (int)sizeof(d->bin))
		abort();
	if (getenv("CORSD_BIN"))
		snprintf(d->bin, sizeof(d->bin), "%s", getenv("CORSD_BIN"));
	setenv("CORSD_RUNDIR", d->rundir, 1);
}

void
daemon_write_policy(struct daemon *d, const char *text)
{
	char tmp[256];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", d->policy);
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
	if (rename(tmp, d->policy) != 0)
		abort();
}

static bool
serving(struct daemon *d)
{
	char name[CORSD_SHM_NAME_MAX];
	void *map;
	size_t size;
	uint64_t ino;
	bool ok;
	const struct corsd_cache_hdr *h;

	corsd_os_instance_path(name, sizeof(name), d->rundir, d->instance,
			       "cache");
	if (corsd_os_shm_open(name, false, geteuid(), &map, &size, &ino, NULL,
			      0))
		return false;
	h = map;
	ok = size >= sizeof(*h) && h->magic == CORSD_CACHE_MAGIC &&
	     h->daemon_pid == (uint32_t)d->pid &&
	     atomic_load(&h->state) == CORSD_STATE_SERVING;
	munmap(map, size);
	return ok;
}

bool
daemon_start(struct daemon *d, const char *const *extra)
{
	const char *argv[32];
	int n = 0;

	argv[n++] = d->bin;
	argv[n++] = "-c";
	argv[n++] = d->policy;
	argv[n++] = "--instance";
	argv[n++] = d->instance;
	argv[n++] = "--foreground";
	for (; extra && *extra && n < 30; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	d->pid = fork();
	if (d->pid < 0)
		return false;
	if (d->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(d->bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		int st;

		if (serving(d))
			return true;
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			return false;
		}
		sleep_ms(10);
	}
	return false;
}

bool
daemon_launch(struct daemon *d, const char *tag, const char *policy,
	      const char *const *extra)
{
	daemon_prepare(d, tag);
	daemon_write_policy(d, policy);
	return daemon_start(d, extra);
}

static void
reap(struct daemon *d, int sig, unsigned wait_ms)
{
	if (d->pid <= 0)
		return;
	kill(d->pid, sig);
	for (unsigned i = 0; i < wait_ms / 10; i++) {
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			d->pid = 0;
			return;
		}
		sleep_ms(10);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, NULL, 0);
	d->pid = 0;
}

void
daemon_stop(struct daemon *d)
{
	reap(d, SIGTERM, 5000);
}

void
daemon_kill9(struct daemon *d)
{
	reap(d, SIGKILL, 5000);
}

bool
daemon_pause(struct daemon *d)
{
	int st;

	/* kill() returns before the threads stop; the parent hears of
	 * the group stop once all of them have. */
	if (d->pid <= 0 || kill(d->pid, SIGSTOP) != 0 ||
	    waitpid(d->pid, &st, WUNTRACED) != d->pid)
		return false;
	return WIFSTOPPED(st);
}

void
daemon_resume(struct daemon *d)
{
	if (d->pid > 0)
		kill(d->pid, SIGCONT);
}

bool
daemon_control(struct daemon *d, const char *cmd, char *buf, size_t size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {30, 0};
	size_t got = 0;
	ssize_t n;
	int fd;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", d->rundir,
		     d->instance) >= (int)sizeof(sa.sun_path))
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) ||
	    write(fd, "\n", 1) != 1) {
		close(fd);
		return false;
	}
	while (got + 1 < size && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return got > 0;
}

static void
rm_rf(const char *dir)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

void
daemon_cleanup(struct daemon *d)
{
	daemon_stop(d);
	if (d->rundir[0])
		rm_rf(d->rundir);
}

int
register_by_hand(const struct daemon *d, struct registration *r)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct corsd_reg_msg m;
	struct stat st;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	r->memfd = -1;
	r->sock = -1;
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.workers",
		     d->rundir, d->instance) >= (int)sizeof(sa.sun_path))
		return -1;
	r->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->sock < 0 || corsd_os_sock_timeout(r->sock, 5000) != 0 ||
	    connect(r->sock, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	n = corsd_os_recv_fd(r->sock, &m, sizeof(m), &r->memfd);
	if (n != (ssize_t)sizeof(m) || r->memfd < 0 ||
	    m.idx == CORSD_REG_NO_SLOT || fstat(r->memfd, &st) != 0)
		goto fail;
	r->idx = m.idx;
	r->size = (size_t)m.slot_size;
	r->ino = (unsigned long long)st.st_ino;
	r->slot = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       r->memfd, 0);
	if (r->slot == MAP_FAILED) {
		r->slot = NULL;
		goto fail;
	}
	return 0;
fail:
	registration_release(r);
	return -1;
}

void
registration_release(struct registration *r)
{
	if (r->slot)
		munmap(r->slot, r->size);
	if (r->memfd >= 0)
		close(r->memfd);
	if (r->sock >= 0)
		close(r->sock);
	r->slot = NULL;
	r->memfd = -1;
	r->sock = -1;
}

pid_t
fork_worker(void)
{
	pid_t pid = fork();

	if (pid == 0)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	return pid;
}

int
wait_worker(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

struct corsd_snapshot *
compile_text(const char *text, uint64_t gen)
{
	struct corsd_diags dg;
	struct corsd_policy_set *set;
	struct corsd_snapshot *s = NULL;
	int err;

	corsd_diags_init(&dg);
	set = corsd_policy_set_load_buffer("test.yaml", text, strlen(text), &dg,
					   &err);
	if (set)
		s = corsd_snapshot_compile(set, gen, &err);
	corsd_policy_set_free(set);
	corsd_diags_release(&dg);
	return s;
}

bool
answers_equal(const struct corsd_answer *a, const struct corsd_answer *b)
{
	if (a->verdict != b->verdict || a->status != b->status ||
	    a->reason != b->reason || a->max_age != b->max_age ||
	    a->flags != b->flags || a->nheaders != b->nheaders ||
	    a->subject_len != b->subject_len ||
	    memcmp(a->subject, b->subject, a->subject_len) != 0)
		return false;
	for (unsigned i = 0; i < a->nheaders; i++) {
		struct corsd_str an = corsd_answer_header_name(a, i);
		struct corsd_str av = corsd_answer_header_value(a, i);
		struct corsd_str bn = corsd_answer_header_name(b, i);
		struct corsd_str bv = corsd_answer_header_value(b, i);

		if (an.len != bn.len || av.len != bv.len ||
		    memcmp(an.p, bn.p, an.len) != 0 ||
		    memcmp(av.p, bv.p, av.len) != 0)
			return false;
	}
	return true;
}

/* The member @name (@len bytes) of @o, else of an object nested in it. */
static json_t *
find_member(json_t *o, const char *name, size_t len, bool nested)
{
	json_t *hit;

	if (!json_is_object(o))
		return NULL;
	hit = json_object_getn(o, name, len);
	if (hit || !nested)
		return hit;
	for (void *it = json_object_iter(o); it;
	     it = json_object_iter_next(o, it)) {
		hit = find_member(json_object_iter_value(it), name, len, true);
		if (hit)
			return hit;
	}
	return NULL;
}

/* The value at @path in @root (a borrowed reference), or NULL. */
static json_t *
find_path(json_t *root, const char *path)
{
	const char *dot = strchr(path, '.');
	json_t *v = root;

	if (!dot)
		return find_member(root, path, strlen(path), true);
	for (;;) {
		size_t len = dot ? (size_t)(dot - path) : strlen(path);

		v = find_member(v, path, len, false);
		if (!v || !dot)
			return v;
		path = dot + 1;
		dot = strchr(path, '.');
	}
}

static json_t *
parse_reply(const char *json)
{
	return json_loads(json, JSON_REJECT_DUPLICATES, NULL);
}

long long
json_field(const char *json, const char *path)
{
	json_t *root = parse_reply(json);
	json_t *v = root ? find_path(root, path) : NULL;
	long long n = -1;

	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (json_is_boolean(v))
		n = json_is_true(v);
	json_decref(root);
	return n;
}

bool
json_field_is_string(const char *json, const char *path)
{
	json_t *root = parse_reply(json);
	bool is = root && json_is_string(find_path(root, path));

	json_decref(root);
	return is;
}
