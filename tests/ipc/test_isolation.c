/*
 * test_isolation.c - worker isolation (SECURITY.md, issue 9 item 2): a
 * worker can neither read another worker's request nor write another
 * worker's answer, because each slot is a memfd of its own that only its
 * worker and corsd map, and corsd retires it the moment its worker's
 * registration connection ends.
 *
 * Layer: tests.  Real processes, run as root, with the unprivileged user
 * 65534 (nobody), in corsd's group, as the hostile worker: it maps
 * everything it can reach and looks for what another worker (root) has
 * in flight.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "abi_int.h"
#include "corsd_client.h"
#include "ipcutil.h"
#include "os.h"

#define NOBODY 65534

static const char policy[] = "version: 1\n"
			     "policies:\n"
			     "  api:\n"
			     "    origins: [https://app.example.com]\n"
			     "    methods: [GET, PUT]\n"
			     "    allow_headers: [X-A]\n"
			     "    max_age: 600\n";

static struct daemon d;

static int
start(void **state)
{
	static const char *const args[] = {"--group", "65534", "--threads", "2",
					   NULL};

	(void)state;
	return daemon_launch(&d, "i", policy, args) ? 0 : -1;
}

static int
start_one_slot(void **state)
{
	static const char *const args[] = {"--group", "65534", "--slots", "1",
					   NULL};

	(void)state;
	return daemon_launch(&d, "s", policy, args) ? 0 : -1;
}

static int
stop(void **state)
{
	(void)state;
	daemon_cleanup(&d);
	return 0;
}

/* Become a worker of the group that is not root: uid and gid 65534. */
static void
become_nobody(void)
{
	gid_t gid = NOBODY;

	if (setgroups(1, &gid) || setgid(NOBODY) || setuid(NOBODY))
		_exit(90);
	/* Credentials changed: the parent-death signal was reset. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static bool
has(const void *p, size_t n, const char *marker)
{
	return memmem(p, n, marker, strlen(marker)) != NULL;
}

/* Does @path, opened and mapped as far as we may, hold @marker?  -1:
 * could not be opened or mapped (fine: nothing read). */
static int
file_has(const char *path, const char *marker)
{
	struct stat st;
	void *p;
	int fd, found;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_size <= 0) {
		close(fd);
		return -1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	found = has(p, (size_t)st.st_size, marker);
	munmap(p, (size_t)st.st_size);
	return found;
}

/* Every file in @dir: the marker in any of them? Counts what was read. */
static bool
dir_has(const char *dir, const char *marker, unsigned *read)
{
	char path[512];
	struct dirent *e;
	DIR *dp = opendir(dir);
	bool found = false;

	if (!dp)
		return false;
	while ((e = readdir(dp))) {
		int rc;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		rc = file_has(path, marker);
		if (rc >= 0)
			(*read)++;
		if (rc == 1)
			found = true;
	}
	closedir(dp);
	return found;
}

/* Can we open any of /proc/@pid/fd/<n>, its memory, or its map? */
static bool
proc_reachable(pid_t pid)
{
	static const char *const what[] = {"mem", "maps", "map_files"};
	char path[64];

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what[i]);
		if (open(path, O_RDONLY | O_CLOEXEC) >= 0)
			return true;
	}
	for (int n = 0; n < 256; n++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, n);
		if (open(path, O_RDONLY | O_CLOEXEC) >= 0)
			return true;
	}
	return false;
}

/* A's request: a preflight whose ACRH names the marker and is too long
 * for a cache key, so it is never cached; the marker is the header
 * corsd refuses, so the answer names it too. */
static void
marker_request(struct corsd_request *r, char *acrh, size_t size,
	       const char *marker)
{
	size_t n;

	n = (size_t)snprintf(acrh, size, "x-a, %s", marker);
	while (n + 8 < size - 1 && n < 700)
		n += (size_t)snprintf(acrh + n, size - n, ", x-pad");
	memset(r, 0, sizeof(*r));
	r->policy = (struct corsd_str){"api", 3};
	r->method = (struct corsd_str){"OPTIONS", 7};
	r->origin = (struct corsd_str){"https://app.example.com", 23};
	r->acrm = (struct corsd_str){"PUT", 3};
	r->acrh = (struct corsd_str){acrh, n};
}

struct board {
	char marker[64];
	_Atomic int posted; /* A has had an answer naming the marker */
	_Atomic int stop;
};

static void
test_no_other_worker_can_reach_a_request_or_an_answer(void **state)
{
	struct board *b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned long long salt;
	pid_t a, bad;
	char fdpath[64], target[128];
	bool seen = false;

	(void)state;
	assert_true(b != MAP_FAILED);
	salt = (unsigned long long)corsd_os_random64();
	snprintf(b->marker, sizeof(b->marker), "x-secret-%016llx", salt);

	/* Worker A, root, in the group: keeps asking. */
	a = fork_worker();
	if (a == 0) {
		static struct corsd_answer ans;
		static char acrh[1024];
		struct corsd_client *c =
			corsd_client_open(d.instance, 2000, NULL);
		struct corsd_request r;

		if (!c)
			_exit(3);
		marker_request(&r, acrh, sizeof(acrh), b->marker);
		while (!atomic_load(&b->stop)) {
			if (corsd_client_decide(c, &r, &ans) != 0)
				_exit(4);
			if (ans.reason != CORSD_REASON_HEADER_NOT_ALLOWED ||
			    !has(ans.subject, ans.subject_len, b->marker))
				_exit(5);
			atomic_store(&b->posted, 1);
			usleep(1000);
		}
		corsd_client_close(c);
		_exit(0);
	}
	for (int i = 0; i < 500 && !atomic_load(&b->posted); i++)
		usleep(10 * 1000);
	assert_int_equal(atomic_load(&b->posted), 1);

	/* Worker B, nobody, in the group: registers, then looks for A's
	 * marker everywhere it can reach, again and again while A asks. */
	bad = fork_worker();
	if (bad == 0) {
		struct registration reg;
		char mine[64];

		become_nobody();
		if (register_by_hand(&d, &reg))
			_exit(3);
		/* The scanner works: B's own request is in B's own slot. */
		snprintf(mine, sizeof(mine), "x-mine-%016llx", salt);
		memcpy(((struct corsd_slot *)reg.slot)->req.bytes, mine,
		       strlen(mine));
		if (!has(reg.slot, reg.size, mine) ||
		    has(reg.slot, reg.size, b->marker))
			_exit(4);
		for (int round = 0; round < 20; round++) {
			unsigned n = 0;

			if (dir_has(d.rundir, b->marker, &n))
				_exit(1);
			/* cache, slots, lock, policy at least */
			if (n < 3)
				_exit(5);
			if (proc_reachable(a) || proc_reachable(d.pid))
				_exit(2);
			usleep(10 * 1000);
		}
		registration_release(&reg);
		_exit(0);
	}
	assert_int_equal(wait_worker(bad), 0);

	/* The marker is there to be found by who may: root reaches A's
	 * slot through A's mappings (the memfd itself A closed once
	 * mapped), and finds it. */
	{
		char line[512], range[64];
		FILE *maps;

		snprintf(fdpath, sizeof(fdpath), "/proc/%d/maps", (int)a);
		maps = fopen(fdpath, "r");
		assert_non_null(maps);
		while (!seen && fgets(line, sizeof(line), maps)) {
			if (!strstr(line, "memfd:corsd-slot") ||
			    sscanf(line, "%63s", range) != 1)
				continue;
			snprintf(target, sizeof(target),
				 "/proc/%d/map_files/%s", (int)a, range);
			seen = file_has(target, b->marker) == 1;
		}
		fclose(maps);
	}
	assert_true(seen);

	atomic_store(&b->stop, 1);
	assert_int_equal(wait_worker(a), 0);
	munmap(b, sizeof(*b));
}

static void
test_a_worker_cannot_shrink_or_grow_its_slot_memory(void **state)
{
	pid_t pid;

	(void)state;
	pid = fork_worker();
	if (pid == 0) {
		struct registration reg;
		struct corsd_request r;
		static struct corsd_answer ans;
		struct corsd_client *c;
		static char acrh[1024];

		become_nobody();
		if (register_by_hand(&d, &reg))
			_exit(3);
		/* Shrinking would make corsd's mapping fault (SIGBUS). */
		if (ftruncate(reg.memfd, (off_t)reg.size / 2) == 0 ||
		    errno != EPERM)
			_exit(4);
		if (ftruncate(reg.memfd, 0) == 0 || errno != EPERM)
			_exit(5);
		if (ftruncate(reg.memfd, (off_t)reg.size * 2) == 0 ||
		    errno != EPERM)
			_exit(6);
		/* No seal can be added or taken away. */
		if (fcntl(reg.memfd, F_ADD_SEALS, F_SEAL_WRITE) == 0 ||
		    errno != EPERM)
			_exit(7);
		registration_release(&reg);
		/* corsd serves on, this user included. */
		c = corsd_client_open(d.instance, 2000, NULL);
		marker_request(&r, acrh, sizeof(acrh), "x-b");
		if (!c || corsd_client_decide(c, &r, &ans) != 0 ||
		    ans.reason != CORSD_REASON_HEADER_NOT_ALLOWED)
			_exit(8);
		corsd_client_close(c);
		_exit(0);
	}
	assert_int_equal(wait_worker(pid), 0);
	assert_int_equal(kill(d.pid, 0), 0);
}

/*
 * corsd --slots 1: a worker holds the one slot; the next is told there
 * is none; kill -9 of the first frees it at once (its connection ends),
 * and the next worker gets new memory (another inode), never the old.
 */
static void
test_kill9_of_a_worker_frees_its_slot_at_once_for_new_memory(void **state)
{
	struct registration reg;
	struct corsd_client *c;
	static struct corsd_answer ans;
	struct corsd_request r;
	unsigned long long ino;
	char stats[8192];
	int fds[2], tries;
	pid_t a;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	a = fork_worker();
	if (a == 0) {
		struct registration mine;

		become_nobody();
		if (register_by_hand(&d, &mine))
			_exit(3);
		if (write(fds[1], &mine.ino, sizeof(mine.ino)) !=
		    (ssize_t)sizeof(mine.ino))
			_exit(4);
		for (;;)
			pause();
	}
	assert_int_equal(read(fds[0], &ino, sizeof(ino)), (ssize_t)sizeof(ino));
	close(fds[0]);
	close(fds[1]);

	assert_int_equal(register_by_hand(&d, &reg), -1);
	c = corsd_client_open(d.instance, 500, NULL);
	assert_non_null(c);
	memset(&r, 0, sizeof(r));
	r.policy = (struct corsd_str){"api", 3};
	r.method = (struct corsd_str){"GET", 3};
	assert_int_equal(corsd_client_decide(c, &r, &ans), -CORSD_EUNAVAIL);
	if (!strstr(corsd_client_why(c), "every slot of corsd is taken"))
		fail_msg("why: %s", corsd_client_why(c));
	corsd_client_close(c);

	kill(a, SIGKILL);
	assert_int_equal(wait_worker(a), 128 + SIGKILL);
	/* At once: the registrar sees the end of the connection; a few
	 * ms of scheduling at most, no housekeeping period. */
	for (tries = 0; tries < 20 && register_by_hand(&d, &reg) != 0; tries++)
		usleep(5 * 1000);
	assert_true(tries < 20);
	assert_int_equal(reg.idx, 0);
	assert_true(reg.ino != ino);
	assert_true(daemon_control(&d, "stats", stats, sizeof(stats)));
	assert_int_equal(json_field(stats, "workers.active"), 1);
	registration_release(&reg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_no_other_worker_can_reach_a_request_or_an_answer,
			start, stop),
		cmocka_unit_test_setup_teardown(
			test_a_worker_cannot_shrink_or_grow_its_slot_memory,
			start, stop),
		cmocka_unit_test_setup_teardown(
			test_kill9_of_a_worker_frees_its_slot_at_once_for_new_memory,
			start_one_slot, stop),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_isolation: needs root (make test runs "
				"as root); nothing run\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
