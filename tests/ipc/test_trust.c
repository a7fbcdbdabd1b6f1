/*
 * test_trust.c - shared-memory provenance (SECURITY.md): a worker uses only
 * segments corsd's user made, in corsd's own runtime directory, for the
 * live corsd that holds the instance lock; corsd refuses a runtime
 * directory that is not its own.
 *
 * Layer: tests.  Real processes, run as root, with the unprivileged user
 * 65534 (nobody) as the attacker.  The "attacker's corsd" is a real corsd
 * with a permissive policy whose files are then given to 65534, exactly
 * what that user's own corsd would leave; the victim is a worker of
 * instance "victim" pointed at them.  Every refusal must come with the
 * reason a person can act on (corsd_client_why()).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "abi_int.h"
#include "corsd_client.h"
#include "ipcutil.h"
#include "os.h"

#define NOBODY 65534

/* The victim's policy grants nothing to evil.example... */
static const char victim_policy[] = "version: 1\n"
				    "policies:\n"
				    "  api:\n"
				    "    origins: [https://good.example]\n";
/* ...the attacker's grants it with credentials. */
static const char evil_policy[] = "version: 1\n"
				  "policies:\n"
				  "  api:\n"
				  "    origins: [https://evil.example]\n"
				  "    credentials: true\n";

static void
evil_request(struct corsd_request *r)
{
	memset(r, 0, sizeof(*r));
	r->policy = (struct corsd_str){"api", 3};
	r->method = (struct corsd_str){"GET", 3};
	r->origin = (struct corsd_str){"https://evil.example", 20};
}

static void
path_of(char *buf, size_t size, const char *rundir, const char *instance,
	const char *what)
{
	assert_int_equal(
		corsd_os_instance_path(buf, size, rundir, instance, what), 0);
}

static void
chown_tree(const char *dir, const char *instance, uid_t uid)
{
	static const char *const what[] = {"cache", "slots", "lock"};
	char p[CORSD_SHM_NAME_MAX];

	assert_int_equal(chown(dir, uid, uid), 0);
	for (size_t i = 0; i < 3; i++) {
		path_of(p, sizeof(p), dir, instance, what[i]);
		assert_int_equal(chown(p, uid, uid), 0);
	}
}

/*
 * In a child with CORSD_RUNDIR=@rundir: open a handle for @instance, ask
 * the evil request.  Exit 0 when the answer is UNAVAILABLE and the reason
 * holds @want; 1 when the forged grant came through; 2 for another
 * answer; 3 when the reason is not the one expected.
 */
static int
victim_asks(const char *rundir, const char *instance, const char *want)
{
	pid_t pid = fork_worker();

	if (pid == 0) {
		static struct corsd_answer ans;
		struct corsd_request r;
		struct corsd_client *c;
		int rc;

		setenv("CORSD_RUNDIR", rundir, 1);
		c = corsd_client_open(instance, 200, NULL);
		if (!c)
			_exit(4);
		evil_request(&r);
		rc = corsd_client_decide(c, &r, &ans);
		if (ans.verdict == CORSD_VERDICT_ALLOW)
			_exit(1);
		if (rc != -CORSD_EUNAVAIL ||
		    ans.verdict != CORSD_VERDICT_UNAVAILABLE)
			_exit(2);
		if (!strstr(corsd_client_why(c), want)) {
			fprintf(stderr, "why: '%s', want '%s'\n",
				corsd_client_why(c), want);
			_exit(3);
		}
		corsd_client_close(c);
		_exit(0);
	}
	return wait_worker(pid);
}

/* The attacker's corsd, serving instance "victim" in its own directory,
 * its files then handed to nobody as that user's corsd would own them. */
static struct daemon evil;

static int
start_evil(void **state)
{
	(void)state;
	daemon_prepare(&evil, "e");
	daemon_write_policy(&evil, evil_policy);
	snprintf(evil.instance, sizeof(evil.instance), "victim%d",
		 (int)getpid());
	if (!daemon_start(&evil, NULL))
		return -1;
	return 0;
}

static int
stop_evil(void **state)
{
	(void)state;
	daemon_cleanup(&evil);
	return 0;
}

static void
test_a_worker_refuses_segments_another_user_made(void **state)
{
	(void)state;
	/* As it stands, root's: the attacker's corsd answers evil. */
	chown_tree(evil.rundir, evil.instance, NOBODY);
	assert_int_equal(
		victim_asks(evil.rundir, evil.instance,
			    "is owned by uid 65534, not corsd's uid 0"),
		0);
	/* The directory handed back to root, the files still nobody's. */
	assert_int_equal(chown(evil.rundir, 0, 0), 0);
	assert_int_equal(victim_asks(evil.rundir, evil.instance,
				     ".cache' is owned by uid 65534"),
			 0);
}

static void
test_a_worker_refuses_a_directory_others_may_write(void **state)
{
	(void)state;
	assert_int_equal(chmod(evil.rundir, 0777), 0);
	assert_int_equal(victim_asks(evil.rundir, evil.instance,
				     "is writable by others (mode 0777)"),
			 0);
	assert_int_equal(chmod(evil.rundir, 0775), 0);
	assert_int_equal(victim_asks(evil.rundir, evil.instance,
				     "is writable by its group (mode 0775)"),
			 0);
	assert_int_equal(chmod(evil.rundir, 0755), 0);
}

/* The forgery: a copy of a corsd's segments with daemon_pid 1
 * and daemon_start 0 (which used to skip the start-time check), even
 * with the right owner and mode, and a lock file that names pid 1. */
static void
test_a_start_time_of_zero_or_another_lock_holder_never_passes(void **state)
{
	char forged[128], src[CORSD_SHM_NAME_MAX], dst[CORSD_SHM_NAME_MAX];
	static const char *const what[] = {"cache", "slots"};
	struct corsd_cache_hdr *h;
	int fd;

	(void)state;
	snprintf(forged, sizeof(forged), "/dev/shm/corsd-forged.XXXXXX");
	assert_non_null(mkdtemp(forged));
	assert_int_equal(chmod(forged, 0755), 0);
	for (size_t i = 0; i < 2; i++) {
		char cmd[600];

		path_of(src, sizeof(src), evil.rundir, evil.instance, what[i]);
		path_of(dst, sizeof(dst), forged, evil.instance, what[i]);
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, dst);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(chmod(dst, i == 0 ? 0640 : 0660), 0);
	}
	path_of(dst, sizeof(dst), forged, evil.instance, "lock");
	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "1\n", 2), 2);
	close(fd);

	path_of(dst, sizeof(dst), forged, evil.instance, "cache");
	fd = open(dst, O_RDWR);
	assert_true(fd >= 0);
	h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(h != MAP_FAILED);
	close(fd);
	h->daemon_pid = 1;
	h->daemon_start = 0;
	assert_int_equal(victim_asks(forged, evil.instance,
				     "is not identified (start time 0)"),
			 0);
	/* The real corsd's identity, but not the lock holder here. */
	h->daemon_pid = (uint32_t)evil.pid;
	h->daemon_start = corsd_os_pid_start(evil.pid);
	assert_int_equal(victim_asks(forged, evil.instance,
				     "is not the holder of the instance lock"),
			 0);
	munmap(h, sizeof(*h));

	/* A symlink to the real segment is not the segment. */
	assert_int_equal(unlink(dst), 0);
	path_of(src, sizeof(src), evil.rundir, evil.instance, "cache");
	assert_int_equal(symlink(src, dst), 0);
	assert_int_equal(
		victim_asks(forged, evil.instance, "it is a symbolic link"), 0);

	{
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", forged);
		assert_int_equal(system(cmd), 0);
	}
}

/*
 * The old attack, as nobody: segments planted under every name a worker
 * of the previous releases looked at (/dev/shm/corsd.<instance>.*) and
 * an attempt to plant one in the real runtime directory.  The real
 * corsd, started afterwards, serves its own policy.
 */
static void
test_names_planted_by_another_user_change_nothing(void **state)
{
	struct daemon v;
	struct corsd_snapshot *snap;
	pid_t pid;
	char legacy[2][96];

	(void)state;
	daemon_prepare(&v, "v");
	daemon_write_policy(&v, victim_policy);
	snprintf(v.instance, sizeof(v.instance), "%s", evil.instance);
	snprintf(legacy[0], sizeof(legacy[0]), "/dev/shm/corsd.%s.cache",
		 v.instance);
	snprintf(legacy[1], sizeof(legacy[1]), "/dev/shm/corsd.%s.slots",
		 v.instance);

	pid = fork_worker();
	if (pid == 0) {
		char p[CORSD_SHM_NAME_MAX];
		int fd;

		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(3);
		for (int i = 0; i < 2; i++) {
			fd = open(legacy[i], O_RDWR | O_CREAT | O_EXCL, 0666);
			if (fd < 0 || ftruncate(fd, 1 << 20) != 0)
				_exit(4);
			close(fd);
		}
		/* The runtime directory is root's, 0755: no way in. */
		corsd_os_instance_path(p, sizeof(p), v.rundir, v.instance,
				       "cache");
		fd = open(p, O_RDWR | O_CREAT | O_EXCL, 0666);
		_exit(fd < 0 && errno == EACCES ? 0 : 5);
	}
	assert_int_equal(wait_worker(pid), 0);

	assert_true(daemon_start(&v, NULL));
	snap = compile_text(victim_policy, 1);
	assert_non_null(snap);
	pid = fork_worker();
	if (pid == 0) {
		static struct corsd_answer got, want;
		struct corsd_request r;
		struct corsd_client *c =
			corsd_client_open(v.instance, 2000, NULL);

		evil_request(&r);
		if (!c || corsd_client_decide(c, &r, &got) != 0)
			_exit(3);
		corsd_decide(snap, &r, &want);
		_exit(answers_equal(&got, &want) &&
				      got.verdict != CORSD_VERDICT_ALLOW
			      ? 0
			      : 1);
	}
	assert_int_equal(wait_worker(pid), 0);
	corsd_snapshot_free(snap);
	daemon_cleanup(&v);
	unlink(legacy[0]);
	unlink(legacy[1]);
}

/* The registration socket is checked as the segments are: corsd's uid's,
 * reached without a symlink; the slot comes from no one else. */
static void
test_a_worker_refuses_a_registration_socket_not_corsds(void **state)
{
	char sock[CORSD_SHM_NAME_MAX], real[CORSD_SHM_NAME_MAX + 8];

	(void)state;
	path_of(sock, sizeof(sock), evil.rundir, evil.instance, "workers");
	snprintf(real, sizeof(real), "%s.real", sock);
	assert_int_equal(lchown(sock, NOBODY, NOBODY), 0);
	assert_int_equal(victim_asks(evil.rundir, evil.instance,
				     ".workers' is owned by uid 65534, not "
				     "corsd's uid 0"),
			 0);
	assert_int_equal(lchown(sock, 0, 0), 0);
	assert_int_equal(rename(sock, real), 0);
	assert_int_equal(symlink(real, sock), 0);
	assert_int_equal(victim_asks(evil.rundir, evil.instance,
				     ".workers' is not a socket"),
			 0);
	assert_int_equal(unlink(sock), 0);
	assert_int_equal(rename(real, sock), 0);
}

/* Run corsd on @rundir until it exits; its stderr into @out. */
static int
corsd_on(const struct daemon *d, const char *rundir, char *out, size_t size)
{
	char log[160];
	pid_t pid;
	int st, fd;
	ssize_t n;

	snprintf(log, sizeof(log), "%s.log", rundir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		setenv("CORSD_RUNDIR", rundir, 1);
		execl(d->bin, d->bin, "-c", d->policy, "--instance",
		      d->instance, "--foreground", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	fd = open(log, O_RDONLY);
	n = fd >= 0 ? read(fd, out, size - 1) : -1;
	out[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	unlink(log);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
test_corsd_refuses_a_runtime_directory_it_does_not_own(void **state)
{
	struct daemon v;
	char dir[160], out[2048];

	(void)state;
	daemon_prepare(&v, "r");
	daemon_write_policy(&v, victim_policy);
	snprintf(dir, sizeof(dir), "%s/run", v.rundir);
	assert_int_equal(mkdir(dir, 0755), 0);

	assert_int_equal(chown(dir, NOBODY, NOBODY), 0);
	assert_int_equal(corsd_on(&v, dir, out, sizeof(out)), 1);
	if (!strstr(out, "is owned by uid 65534, not corsd's uid 0"))
		fail_msg("corsd said: %s", out);

	assert_int_equal(chown(dir, 0, 0), 0);
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(corsd_on(&v, dir, out, sizeof(out)), 1);
	if (!strstr(out, "is writable by its group (mode 0775)"))
		fail_msg("corsd said: %s", out);
	daemon_cleanup(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_a_worker_refuses_segments_another_user_made,
			start_evil, stop_evil),
		cmocka_unit_test_setup_teardown(
			test_a_worker_refuses_a_directory_others_may_write,
			start_evil, stop_evil),
		cmocka_unit_test_setup_teardown(
			test_a_start_time_of_zero_or_another_lock_holder_never_passes,
			start_evil, stop_evil),
		cmocka_unit_test_setup_teardown(
			test_names_planted_by_another_user_change_nothing,
			start_evil, stop_evil),
		cmocka_unit_test_setup_teardown(
			test_a_worker_refuses_a_registration_socket_not_corsds,
			start_evil, stop_evil),
		cmocka_unit_test(
			test_corsd_refuses_a_runtime_directory_it_does_not_own),
	};

	if (geteuid() != 0) {
		/* The attacker is another user: only root can play both. */
		fprintf(stderr, "test_trust: needs root (make test runs as "
				"root); nothing run\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
