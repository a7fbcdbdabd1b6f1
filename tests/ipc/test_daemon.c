/*
 * test_daemon.c - a real corsd and real worker processes.
 *
 * Layer: tests.  Every worker is a forked process using the client
 * library exactly as a web server would, and compares what corsd answered
 * with what the engine decides in-process for the same request.  corsd and
 * the workers are killed at chosen points; the tests assert that nobody
 * hangs, nobody gets a wrong answer, and slots come back.
 */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "abi_int.h"
#include "corsd_client.h"
#include "corsd_engine.h"
#include "ipcutil.h"
#include "os.h"

static const char policy_a[] =
	"version: 1\n"
	"policies:\n"
	"  api:\n"
	"    origins: [https://app.example.com, \"https://*.example.org\"]\n"
	"    methods: [GET, PUT]\n"
	"    allow_headers: [X-A]\n"
	"    expose_headers: [X-Gen-A]\n"
	"    max_age: 600\n"
	"  other:\n"
	"    origins: [\"*\"]\n";

static const char policy_b[] = "version: 1\n"
			       "policies:\n"
			       "  api:\n"
			       "    origins: [https://app.example.com]\n"
			       "    methods: [GET, DELETE]\n"
			       "    allow_headers: [X-A, Authorization]\n"
			       "    expose_headers: [X-Gen-B]\n"
			       "    credentials: true\n"
			       "    max_age: 300\n"
			       "  other:\n"
			       "    origins: [\"*\"]\n"
			       "    methods: \"*\"\n";

static const char policy_broken[] =
	"version: 1\n"
	"policies:\n"
	"  api:\n"
	"    origins: [https://app.example.com/path]\n"
	"    methodz: [GET]\n";

/* A request chosen by (worker, i); strings live in @buf. */
static void
make_request(struct corsd_request *r, char *buf, size_t size, int worker,
	     unsigned i)
{
	static const char *const origins[] = {
		"https://app.example.com",
		"https://a.example.org",
		"https://evil.example",
		"https://APP.example.com",
		NULL,
	};
	static const char *const acrm[] = {"PUT", "DELETE", "patch", "GET"};
	static const char *const acrh[] = {"x-a", "x-a, authorization", "",
					   "x-b"};
	unsigned o = i % 7;

	memset(r, 0, sizeof(*r));
	r->policy.p = (i % 11 == 0) ? "other" : "api";
	r->policy.len = strlen(r->policy.p);
	if (o < 5) {
		r->origin.p = origins[o];
	} else {
		/* Distinct origins: misses that must go through a slot. */
		snprintf(buf, size, "https://w%d-%u.example.org", worker, i);
		r->origin.p = buf;
	}
	r->origin.len = r->origin.p ? strlen(r->origin.p) : 0;
	if (i % 3 == 0) {
		r->method.p = "OPTIONS";
		r->acrm.p = acrm[(i / 3) % 4];
		r->acrm.len = strlen(r->acrm.p);
		if ((i / 12) % 5 != 4) {
			r->acrh.p = acrh[(i / 12) % 4];
			r->acrh.len = strlen(r->acrh.p);
		}
	} else {
		r->method.p = "GET";
	}
	r->method.len = strlen(r->method.p);
}

static struct corsd_snapshot *snap_a, *snap_b;
static struct daemon d;

static int
setup(void **state)
{
	(void)state;
	snap_a = compile_text(policy_a, 1);
	snap_b = compile_text(policy_b, 2);
	return snap_a && snap_b ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	corsd_snapshot_free(snap_a);
	corsd_snapshot_free(snap_b);
	return 0;
}

static int
start_a(void **state)
{
	static const char *const args[] = {"--threads", "2", "--slots", "128",
					   NULL};

	(void)state;
	return daemon_launch(&d, "d", policy_a, args) ? 0 : -1;
}

static int
stop_daemon(void **state)
{
	(void)state;
	daemon_cleanup(&d);
	return 0;
}

/* Worker body: @n requests; exit 0 all right, 1 wrong, 2 unavailable. */
static void
worker_compare(int id, unsigned n, unsigned timeout_ms)
{
	struct corsd_client *c =
		corsd_client_open(d.instance, timeout_ms, NULL);
	static struct corsd_answer got, want;
	char buf[128];

	if (!c)
		_exit(3);
	for (unsigned i = 0; i < n; i++) {
		struct corsd_request r;
		int rc;

		make_request(&r, buf, sizeof(buf), id, i);
		rc = corsd_client_decide(c, &r, &got);
		if (rc == -CORSD_EUNAVAIL)
			_exit(2);
		corsd_decide(snap_a, &r, &want);
		if (rc != 0 || !answers_equal(&got, &want)) {
			fprintf(stderr, "worker %d request %u: wrong answer\n",
				id, i);
			_exit(1);
		}
	}
	corsd_client_close(c);
	_exit(0);
}

static void
test_64_workers_get_exactly_the_engine_answers(void **state)
{
	pid_t pids[64];
	char stats[8192];

	(void)state;
	for (int i = 0; i < 64; i++) {
		pids[i] = fork_worker();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			worker_compare(i, 3000, 5000);
	}
	for (int i = 0; i < 64; i++)
		assert_int_equal(wait_worker(pids[i]), 0);
	assert_true(daemon_control(&d, "stats", stats, sizeof(stats)));
	/* Both paths were exercised: the cache and the slots. */
	assert_true(json_field(stats, "workers.hits") > 0);
	assert_true(json_field(stats, "workers.misses") > 0);
	assert_int_equal(json_field(stats, "workers.requests"), 64 * 3000);
	/* Every request was taken: none is left pending in a slot. */
	assert_int_equal(json_field(stats, "workers.pending"), 0);
}

struct reload_board {
	_Atomic unsigned started; /* reloads begun */
	_Atomic unsigned done;	  /* reloads answered ok */
	_Atomic int stop;
	_Atomic unsigned long requests; /* answered, all workers */
};

/* Wait (bounded) until the workers answered @n more requests, so that
 * every reload happens while requests are in flight. */
static void
wait_requests(struct reload_board *b, unsigned long n)
{
	unsigned long target = atomic_load(&b->requests) + n;

	for (int i = 0; i < 2000 && atomic_load(&b->requests) < target; i++)
		usleep(1000);
}

static void
worker_during_reloads(int id, struct reload_board *b)
{
	struct corsd_client *c = corsd_client_open(d.instance, 2000, NULL);
	static struct corsd_answer got, want;
	char buf[128];
	unsigned i = 0, n = 0;

	if (!c)
		_exit(3);
	while (!atomic_load(&b->stop)) {
		struct corsd_request r;
		unsigned lo, hi;
		bool ok = false;
		int rc;

		make_request(&r, buf, sizeof(buf), id, i++);
		lo = atomic_load(&b->done);
		rc = corsd_client_decide(c, &r, &got);
		hi = atomic_load(&b->started);
		if (rc != 0) {
			fprintf(stderr, "worker %d: rc %d\n", id, rc);
			_exit(2);
		}
		/* Reload k leaves policy A when k is even, B when odd. Any
		 * policy in force during the call is fine; one retired
		 * before the call began is not. */
		for (unsigned k = lo; k <= hi && !ok; k++) {
			corsd_decide(k % 2 ? snap_b : snap_a, &r, &want);
			ok = answers_equal(&got, &want);
		}
		if (!ok) {
			fprintf(stderr,
				"worker %d request %u: answer from neither "
				"policy in force (reloads %u..%u)\n",
				id, i - 1, lo, hi);
			_exit(1);
		}
		n++;
		atomic_fetch_add(&b->requests, 1);
	}
	corsd_client_close(c);
	_exit(n > 0 ? 0 : 4);
}

static void
test_reload_under_load_never_answers_from_a_retired_policy(void **state)
{
	struct reload_board *b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pids[8];
	char reply[512];

	(void)state;
	assert_true(b != MAP_FAILED);
	for (int i = 0; i < 8; i++) {
		pids[i] = fork_worker();
		if (pids[i] == 0)
			worker_during_reloads(i, b);
	}
	wait_requests(b, 800);
	for (unsigned k = 1; k <= 100; k++) {
		wait_requests(b, 40);
		atomic_store(&b->started, k);
		daemon_write_policy(&d, k % 2 ? policy_b : policy_a);
		assert_true(daemon_control(&d, "reload", reply, sizeof(reply)));
		if (json_field(reply, "ok") != 1)
			fail_msg("reload %u: %s", k, reply);
		atomic_store(&b->done, k);
	}
	wait_requests(b, 800);
	atomic_store(&b->stop, 1);
	for (int i = 0; i < 8; i++)
		assert_int_equal(wait_worker(pids[i]), 0);
	/* Requests really did run through the reloads. */
	assert_true(atomic_load(&b->requests) > 100 * 40);
	munmap(b, sizeof(*b));
	/* Leave policy A in force again for the tests that follow. */
	daemon_write_policy(&d, policy_a);
	assert_true(daemon_control(&d, "reload", reply, sizeof(reply)));
	assert_int_equal(json_field(reply, "ok"), 1);
}

static void
test_broken_policy_on_reload_keeps_the_old_one(void **state)
{
	struct corsd_client *c = corsd_client_open(d.instance, 2000, NULL);
	static struct corsd_answer got, want;
	char reply[8192];
	struct corsd_request r;
	char buf[64];

	(void)state;
	assert_non_null(c);
	daemon_write_policy(&d, policy_broken);
	assert_true(daemon_control(&d, "reload", reply, sizeof(reply)));
	assert_int_equal(json_field(reply, "ok"), 0);
	assert_true(daemon_control(&d, "stats", reply, sizeof(reply)));
	assert_true(json_field(reply, "reload_failures") >= 1);
	assert_true(json_field_is_string(reply, "last_reload_error"));
	for (unsigned i = 0; i < 200; i++) {
		make_request(&r, buf, sizeof(buf), 99, i);
		assert_int_equal(corsd_client_decide(c, &r, &got), 0);
		corsd_decide(snap_a, &r, &want);
		assert_true(answers_equal(&got, &want));
	}
	corsd_client_close(c);
	daemon_write_policy(&d, policy_a);
}

struct kill_board {
	_Atomic int phase; /* 0 serving, 1 killed, 2 restarted */
	_Atomic int stop;
};

static void
worker_through_restart(int id, struct kill_board *b, unsigned timeout_ms)
{
	struct corsd_client *c =
		corsd_client_open(d.instance, timeout_ms, NULL);
	static struct corsd_answer got, want;
	unsigned after = 0, i = 0;
	char buf[128];

	if (!c)
		_exit(3);
	while (after < 200) {
		struct corsd_request r;
		uint64_t t0, ms;
		int phase, rc;

		if (atomic_load(&b->stop))
			_exit(5);
		make_request(&r, buf, sizeof(buf), id, i++);
		phase = atomic_load(&b->phase);
		t0 = corsd_os_now_ns();
		rc = corsd_client_decide(c, &r, &got);
		ms = (corsd_os_now_ns() - t0) / 1000000u;
		/* Never longer than the timeout, with scheduling slack. */
		if (ms > timeout_ms + 200) {
			fprintf(stderr, "worker %d waited %llu ms\n", id,
				(unsigned long long)ms);
			_exit(6);
		}
		if (rc == -CORSD_EUNAVAIL) {
			if (got.verdict != CORSD_VERDICT_UNAVAILABLE ||
			    got.nheaders != 0)
				_exit(7);
			continue;
		}
		corsd_decide(snap_a, &r, &want);
		if (rc != 0 || !answers_equal(&got, &want))
			_exit(1);
		if (phase == 2)
			after++;
	}
	corsd_client_close(c);
	_exit(0);
}

static void
test_sigkill_of_corsd_makes_workers_unavailable_then_reattach(void **state)
{
	struct kill_board *b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	static const char *const args[] = {"--threads", "2", NULL};
	struct corsd_client *probe;
	pid_t pids[8];
	uint64_t epoch0;

	(void)state;
	assert_true(b != MAP_FAILED);
	probe = corsd_client_open(d.instance, 500, NULL);
	epoch0 = corsd_client_epoch(probe);
	assert_true(epoch0 != 0);
	for (int i = 0; i < 8; i++) {
		pids[i] = fork_worker();
		if (pids[i] == 0)
			worker_through_restart(i, b, 300);
	}
	usleep(200 * 1000);
	{
		/* Warm the cache for one request, so that its answer is
		 * there to be (wrongly) served after corsd dies. */
		static struct corsd_answer got;
		struct corsd_request r;
		char buf[64];

		make_request(&r, buf, sizeof(buf), 1, 1);
		assert_int_equal(corsd_client_decide(probe, &r, &got), 0);
		assert_int_equal(corsd_client_decide(probe, &r, &got), 0);
		daemon_kill9(&d);
		atomic_store(&b->phase, 1);
		usleep(120 * 1000);
		assert_int_equal(corsd_client_decide(probe, &r, &got),
				 -CORSD_EUNAVAIL);
		assert_int_equal(got.verdict, CORSD_VERDICT_UNAVAILABLE);
	}
	usleep(600 * 1000);
	assert_true(daemon_start(&d, args));
	atomic_store(&b->phase, 2);
	for (int i = 0; i < 8; i++)
		assert_int_equal(wait_worker(pids[i]), 0);
	/* An idle handle re-attaches by itself too, to the new epoch. */
	{
		static struct corsd_answer got;
		struct corsd_request r;
		char buf[64];
		int rc = -1;

		make_request(&r, buf, sizeof(buf), 1, 1);
		for (int i = 0; i < 100 && rc != 0; i++) {
			rc = corsd_client_decide(probe, &r, &got);
			if (rc)
				usleep(20 * 1000);
		}
		assert_int_equal(rc, 0);
		assert_true(corsd_client_epoch(probe) != epoch0);
	}
	corsd_client_close(probe);
	munmap(b, sizeof(*b));
}

static void
test_sigkill_of_workers_stalls_nobody_and_slots_come_back(void **state)
{
	pid_t pids[16];
	char stats[8192];
	long long active = -1;

	(void)state;
	srand((unsigned)getpid());
	for (int i = 0; i < 16; i++) {
		pids[i] = fork_worker();
		if (pids[i] == 0)
			worker_compare(100 + i, i % 2 ? 200000 : 20000, 2000);
	}
	/* The odd ones would run for long: kill them at random points,
	 * mid-request most likely. */
	for (int i = 1; i < 16; i += 2) {
		usleep((useconds_t)(rand() % 100000));
		kill(pids[i], SIGKILL);
	}
	for (int i = 0; i < 16; i++) {
		int st = wait_worker(pids[i]);

		if (i % 2)
			assert_int_equal(st, 128 + SIGKILL);
		else
			assert_int_equal(st, 0);
	}
	/* corsd reclaims dead workers' slots within about a second. */
	for (int i = 0; i < 50 && active != 0; i++) {
		usleep(100 * 1000);
		assert_true(daemon_control(&d, "stats", stats, sizeof(stats)));
		active = json_field(stats, "workers.active");
	}
	assert_int_equal(active, 0);
}

/* Ask corsd, then the engine in-process; the two must agree. */
static void
ask_both(struct corsd_client *c, const struct corsd_request *r,
	 struct corsd_answer *got)
{
	static struct corsd_answer want;

	assert_int_equal(corsd_client_decide(c, r, got), 0);
	corsd_decide(snap_a, r, &want);
	assert_true(answers_equal(got, &want));
}

static struct corsd_str
str_of(const char *p)
{
	return (struct corsd_str){.p = p, .len = strlen(p)};
}

/*
 * Requests whose fields sit at and past their bounds cross a slot with
 * every byte in place: the request is packed, so a length or an offset
 * off by one would move the fields after it.
 */
static void
test_fields_at_their_bounds_cross_the_slot_intact(void **state)
{
	static char origin[CORSD_ORIGIN_MAX + 2], acrh[CORSD_ACRH_MAX + 2];
	static char token[CORSD_METHOD_MAX + 2],
		policy[CORSD_POLICY_NAME_MAX + 2];
	static struct corsd_answer got;
	struct corsd_client *c = corsd_client_open(d.instance, 5000, NULL);
	struct corsd_request r;
	struct corsd_str v;
	char stats[8192];
	size_t n;

	(void)state;
	assert_non_null(c);

	/* The longest origin a host name allows: 253 bytes of host (a
	 * pattern without a port matches the default port only). */
	n = (size_t)snprintf(origin, sizeof(origin), "https://");
	for (int i = 0; i < 4; i++)
		n += (size_t)snprintf(origin + n, sizeof(origin) - n, "%.59s.",
				      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				      "aaaaaaaaaaaaaaaaaaaaaaaa");
	n += (size_t)snprintf(origin + n, sizeof(origin) - n, "b.example.org");
	memset(&r, 0, sizeof(r));
	r.policy = str_of("api");
	r.method = str_of("GET");
	r.origin = (struct corsd_str){.p = origin, .len = n};
	ask_both(c, &r, &got);
	assert_int_equal(got.verdict, CORSD_VERDICT_ALLOW);
	v = corsd_answer_header_value(&got, 0);
	assert_int_equal(v.len, n);
	assert_memory_equal(v.p, origin, n);

	/* An ACRH of exactly 4096 bytes: empty elements between two
	 * names, the second of which decides. */
	memset(&r, 0, sizeof(r));
	r.policy = str_of("api");
	r.method = str_of("OPTIONS");
	r.origin = str_of("https://app.example.com");
	r.acrm = str_of("PUT");
	memset(acrh, ',', sizeof(acrh));
	memcpy(acrh, "x-a", 3);
	memcpy(acrh + CORSD_ACRH_MAX - 3, "x-a", 3);
	r.acrh = (struct corsd_str){.p = acrh, .len = CORSD_ACRH_MAX};
	ask_both(c, &r, &got);
	assert_int_equal(got.reason, CORSD_REASON_ALLOWED);

	memcpy(acrh + CORSD_ACRH_MAX - 3, "x-b", 3);
	ask_both(c, &r, &got);
	assert_int_equal(got.reason, CORSD_REASON_HEADER_NOT_ALLOWED);
	assert_int_equal(got.subject_len, 3);
	assert_memory_equal(got.subject, "x-b", 3);

	/* One byte more, with ACRPN after it: still the engine's answer. */
	memcpy(acrh + CORSD_ACRH_MAX - 3, "x-a,", 4);
	r.acrh.len = CORSD_ACRH_MAX + 1;
	ask_both(c, &r, &got);
	assert_int_equal(got.reason, CORSD_REASON_HEADERS_TOO_LONG);
	r.acrh.len = CORSD_ACRH_MAX;
	r.acrpn = str_of("true");
	ask_both(c, &r, &got);
	assert_int_equal(got.reason, CORSD_REASON_PRIVATE_NETWORK_NOT_ALLOWED);

	/* Longest method and ACRM tokens, and one byte more. */
	memset(token, 'X', sizeof(token));
	r.method = (struct corsd_str){.p = token, .len = CORSD_METHOD_MAX};
	r.acrm = (struct corsd_str){0};
	r.acrh = (struct corsd_str){0};
	r.acrpn = (struct corsd_str){0};
	ask_both(c, &r, &got);
	r.method = str_of("OPTIONS");
	r.acrm = (struct corsd_str){.p = token, .len = CORSD_METHOD_MAX};
	ask_both(c, &r, &got);
	assert_int_equal(got.reason, CORSD_REASON_METHOD_NOT_ALLOWED);
	r.acrm.len = CORSD_METHOD_MAX + 1;
	ask_both(c, &r, &got);

	/* Policy names at the bound and past it: unknown, and named. */
	memset(policy, 'p', sizeof(policy));
	r.policy =
		(struct corsd_str){.p = policy, .len = CORSD_POLICY_NAME_MAX};
	ask_both(c, &r, &got);
	assert_int_equal(got.verdict, CORSD_VERDICT_NO_POLICY);
	r.policy.len = CORSD_POLICY_NAME_MAX + 1;
	ask_both(c, &r, &got);

	/* Every one of them was a miss, answered through its slot. */
	assert_true(daemon_control(&d, "stats", stats, sizeof(stats)));
	assert_true(json_field(stats, "workers.misses") >= 10);
	assert_int_equal(json_field(stats, "bad_requests"), 0);
	corsd_client_close(c);
}

/*
 * A hostile worker writes garbage into its own slot (all it can reach of
 * the slots now: SECURITY.md) and into the shared doorbell, sleepers
 * and pending bits; corsd refuses the garbage and the others still get
 * exactly the engine's answers.
 */
static void
test_random_bytes_in_a_slot_cannot_hurt_corsd(void **state)
{
	pid_t bad, good[4];
	char name[CORSD_SHM_NAME_MAX], stats[8192];

	(void)state;
	corsd_os_instance_path(name, sizeof(name), d.rundir, d.instance,
			       "slots");
	bad = fork_worker();
	if (bad == 0) {
		struct registration reg;
		struct corsd_slots_hdr *h;
		struct corsd_slot *sl;
		size_t size;
		uint64_t ino, t0;
		void *map;
		unsigned seed = (unsigned)getpid();

		if (corsd_os_shm_open(name, true, geteuid(), &map, &size, &ino,
				      NULL, 0))
			_exit(3);
		h = map;
		if (register_by_hand(&d, &reg))
			_exit(4);
		sl = reg.slot;
		t0 = corsd_os_now_ns();
		while (corsd_os_now_ns() - t0 < 1500000000ull) {
			unsigned char *p = (unsigned char *)&sl->req;

			for (size_t k = 0; k < sizeof(sl->req); k += 4)
				p[k] = (unsigned char)rand_r(&seed);
			atomic_store(&sl->req_seq, (uint32_t)rand_r(&seed));
			for (unsigned w = 0; w < CORSD_PENDING_WORDS; w++)
				atomic_fetch_or(&h->pending[w],
						(uint64_t)rand_r(&seed) << 17);
			atomic_fetch_or(&h->pending[reg.idx / 64],
					1ull << (reg.idx % 64));
			atomic_store(&h->sleepers, (uint32_t)rand_r(&seed));
			atomic_fetch_add(&h->doorbell, 1);
			corsd_os_futex_wake(&h->doorbell, 1);
		}
		registration_release(&reg);
		_exit(0);
	}
	for (int i = 0; i < 4; i++) {
		good[i] = fork_worker();
		if (good[i] == 0)
			worker_compare(200 + i, 3000, 5000);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(wait_worker(good[i]), 0);
	assert_int_equal(wait_worker(bad), 0);
	assert_int_equal(kill(d.pid, 0), 0);
	assert_true(daemon_control(&d, "stats", stats, sizeof(stats)));
	assert_true(json_field(stats, "bad_requests") > 0);
}

static void
test_a_second_corsd_for_the_same_instance_refuses_to_start(void **state)
{
	struct daemon twin = d;
	int st;

	(void)state;
	twin.pid = fork();
	if (twin.pid == 0) {
		execl(d.bin, d.bin, "-c", d.policy, "--instance", d.instance,
		      "--foreground", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(twin.pid, &st, 0), twin.pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_int_equal(kill(d.pid, 0), 0);
}

static void
test_cache_is_read_only_and_segments_carry_the_group(void **state)
{
	static const char *const args[] = {"--group", "65534", NULL};
	struct daemon g;
	char cache[CORSD_SHM_NAME_MAX], slots[CORSD_SHM_NAME_MAX];
	char workers[CORSD_SHM_NAME_MAX];
	struct stat st;
	pid_t pid;

	(void)state;
	assert_true(daemon_launch(&g, "g", policy_a, args));
	corsd_os_instance_path(cache, sizeof(cache), g.rundir, g.instance,
			       "cache");
	corsd_os_instance_path(slots, sizeof(slots), g.rundir, g.instance,
			       "slots");
	corsd_os_instance_path(workers, sizeof(workers), g.rundir, g.instance,
			       "workers");

	assert_int_equal(stat(cache, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(stat(slots, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(lstat(workers, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, 65534);

	/* The mapping a worker gets faults on a write. */
	pid = fork_worker();
	if (pid == 0) {
		void *map;
		size_t size;
		uint64_t ino;

		/* cmocka catches SIGSEGV to report it; here it is the
		 * expected end of the child. */
		signal(SIGSEGV, SIG_DFL);
		if (corsd_os_shm_open(cache, false, geteuid(), &map, &size,
				      &ino, NULL, 0))
			_exit(3);
		((volatile char *)map)[100] = 1;
		_exit(0);
	}
	assert_int_equal(wait_worker(pid), 128 + SIGSEGV);

	/* A worker of the group, not root: cannot open the cache for
	 * writing, can use the slots, and gets right answers. */
	pid = fork_worker();
	if (pid == 0) {
		gid_t gid = 65534;
		struct corsd_client *c;
		static struct corsd_answer got, want;
		struct corsd_request r;
		char buf[64];

		if (setgroups(1, &gid) || setgid(gid) || setuid(65534))
			_exit(3);
		if (open(cache, O_RDWR) >= 0 || errno != EACCES)
			_exit(4);
		c = corsd_client_open(g.instance, 2000, NULL);
		make_request(&r, buf, sizeof(buf), 7, 1);
		if (!c || corsd_client_decide(c, &r, &got) != 0)
			_exit(5);
		corsd_decide(snap_a, &r, &want);
		_exit(answers_equal(&got, &want) ? 0 : 1);
	}
	assert_int_equal(wait_worker(pid), 0);
	/* A clean stop removes what corsd created. */
	daemon_stop(&g);
	assert_int_equal(stat(cache, &st), -1);
	assert_int_equal(stat(slots, &st), -1);
	assert_int_equal(lstat(workers, &st), -1);
	daemon_cleanup(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_64_workers_get_exactly_the_engine_answers, start_a,
			stop_daemon),
		cmocka_unit_test_setup_teardown(
			test_reload_under_load_never_answers_from_a_retired_policy,
			start_a, stop_daemon),
		cmocka_unit_test_setup_teardown(
			test_broken_policy_on_reload_keeps_the_old_one, start_a,
			stop_daemon),
		cmocka_unit_test_setup_teardown(
			test_sigkill_of_corsd_makes_workers_unavailable_then_reattach,
			start_a, stop_daemon),
		cmocka_unit_test_setup_teardown(
			test_sigkill_of_workers_stalls_nobody_and_slots_come_back,
			start_a, stop_daemon),
		cmocka_unit_test_setup_teardown(
			test_fields_at_their_bounds_cross_the_slot_intact,
			start_a, stop_daemon),
		cmocka_unit_test_setup_teardown(
			test_random_bytes_in_a_slot_cannot_hurt_corsd, start_a,
			stop_daemon),
		cmocka_unit_test_setup_teardown(
			test_a_second_corsd_for_the_same_instance_refuses_to_start,
			start_a, stop_daemon),
		cmocka_unit_test(
			test_cache_is_read_only_and_segments_carry_the_group),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
