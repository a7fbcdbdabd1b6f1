/*
 * test_breaker.c - a hung corsd (SIGSTOP) and the client's breaker.
 *
 * Layer: tests.  A real corsd, stopped and continued at chosen points,
 * and a handle in this process used as a web server would.  Each answer
 * corsd gives is compared with the engine's own; while corsd is stopped
 * the tests assert that a miss costs one timeout, not one per request,
 * that the misses after it are answered unavailable in microseconds
 * without being posted (the slot's req_seq does not move), and that
 * cache hits keep their answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "abi_int.h"
#include "corsd_client.h"
#include "corsd_engine.h"
#include "ipcutil.h"
#include "os.h"

static const char policy[] =
	"version: 1\n"
	"policies:\n"
	"  api:\n"
	"    origins: [https://app.example.com, \"https://*.example.org\"]\n"
	"    methods: [GET, PUT]\n"
	"    allow_headers: [X-A]\n"
	"    max_age: 600\n";

/* The client's back-off cap (client.c): answers must be back within it,
 * plus the timeout of the probe and scheduling slack. */
#define BACKOFF_MAX_MS 1600u
#define SLACK_MS       300u

static struct corsd_snapshot *snap;
static struct daemon d;
static struct corsd_client *c;

static int
setup(void **state)
{
	(void)state;
	snap = compile_text(policy, 1);
	return snap ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	corsd_snapshot_free(snap);
	return 0;
}

static int
start(void **state)
{
	static const char *const args[] = {"--threads", "1", NULL};

	(void)state;
	return daemon_launch(&d, "b", policy, args) ? 0 : -1;
}

static int
stop(void **state)
{
	(void)state;
	corsd_client_close(c);
	c = NULL;
	daemon_resume(&d);
	daemon_cleanup(&d);
	return 0;
}

static uint64_t
now_us(void)
{
	return corsd_os_now_ns() / 1000u;
}

/* A request of policy api: a GET, or a preflight for PUT. */
static void
make(struct corsd_request *r, const char *origin, bool preflight)
{
	memset(r, 0, sizeof(*r));
	r->policy = (struct corsd_str){"api", 3};
	r->origin = (struct corsd_str){origin, strlen(origin)};
	if (preflight) {
		r->method = (struct corsd_str){"OPTIONS", 7};
		r->acrm = (struct corsd_str){"PUT", 3};
	} else {
		r->method = (struct corsd_str){"GET", 3};
	}
}

/* Distinct origins: each one a miss. */
static void
make_miss(struct corsd_request *r, char *buf, size_t size, unsigned i)
{
	snprintf(buf, size, "https://m%u-%d.example.org", i, (int)getpid());
	make(r, buf, i % 2);
}

/* corsd's answer to @r is the engine's. */
static void
assert_engine_answer(const struct corsd_request *r)
{
	static struct corsd_answer got, want;

	assert_int_equal(corsd_client_decide(c, r, &got), 0);
	corsd_decide(snap, r, &want);
	assert_true(answers_equal(&got, &want));
}

/* The request answered unavailable, as corsd_client.h says. */
static void
assert_unavailable(const struct corsd_request *r, int rc,
		   const struct corsd_answer *a)
{
	assert_int_equal(rc, -CORSD_EUNAVAIL);
	assert_int_equal(a->verdict, CORSD_VERDICT_UNAVAILABLE);
	assert_int_equal(a->reason, CORSD_REASON_UNAVAILABLE);
	assert_int_equal(a->nheaders, 0);
	assert_int_equal(a->flags, corsd_request_is_preflight(r)
					   ? CORSD_ANSWER_PREFLIGHT
					   : 0);
}

/*
 * The request sequence of this process's slot: the one corsd memfd it
 * maps (/proc/self/maps names it "/memfd:corsd-slot").  A miss that is
 * posted moves it; one that is withheld does not.
 */
static uint32_t
slot_req_seq(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long lo = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "/memfd:corsd-slot") &&
		    sscanf(line, "%lx-", &lo) == 1)
			break;
	fclose(f);
	assert_true(lo != 0);
	return atomic_load(&((struct corsd_slot *)lo)->req_seq);
}

static void
stats(struct corsd_client_stats *st)
{
	assert_int_equal(corsd_client_stats(c, st), 0);
}

/*
 * Miss @i answered unavailable; @posts: by how much the slot's req_seq
 * moved (1: it was posted and waited, 0: withheld).  Return: how long
 * the call took, in us.
 */
static uint64_t
miss_unavailable(unsigned i, uint32_t posts)
{
	static struct corsd_answer a;
	struct corsd_request r;
	uint32_t seq = slot_req_seq();
	char buf[96];
	uint64_t t;
	int rc;

	make_miss(&r, buf, sizeof(buf), i);
	t = now_us();
	rc = corsd_client_decide(c, &r, &a);
	t = now_us() - t;
	assert_unavailable(&r, rc, &a);
	assert_int_equal(slot_req_seq(), seq + posts);
	return t;
}

/* Miss @i is posted and waits out the timeout (+ slack). */
static void
assert_miss_times_out(unsigned i, unsigned timeout)
{
	uint64_t ms = miss_unavailable(i, 1) / 1000u;

	if (ms + 5 < timeout || ms > timeout + SLACK_MS)
		fail_msg("miss %u took %llu ms, timeout %u ms", i,
			 (unsigned long long)ms, timeout);
}

/* Miss @i is withheld, at once: under 20 ms whatever the load (a post
 * would wait the timeout).  Return: true when under 1 ms. */
static bool
assert_miss_withheld(unsigned i)
{
	uint64_t us = miss_unavailable(i, 0);

	if (us >= 20000)
		fail_msg("withheld miss %u took %llu us", i,
			 (unsigned long long)us);
	return us < 1000;
}

/* Misses until corsd answers one, each its engine answer; the time it
 * took in ms.  Fails past @max_ms. */
static uint64_t
until_answered(unsigned from, unsigned max_ms)
{
	static struct corsd_answer got, want;
	uint64_t t0 = now_us();
	struct corsd_request r;
	char buf[96];

	for (unsigned i = from;; i++) {
		make_miss(&r, buf, sizeof(buf), i);
		if (corsd_client_decide(c, &r, &got) == 0) {
			corsd_decide(snap, &r, &want);
			assert_true(answers_equal(&got, &want));
			return (now_us() - t0) / 1000u;
		}
		if ((now_us() - t0) / 1000u > max_ms)
			fail_msg("no answer within %u ms (%s)", max_ms,
				 corsd_client_why(c));
		sleep_ms(5);
	}
}

/* Open the handle, attached and answered once, with a timeout a slow
 * (sanitized, loaded) corsd meets; the tests then set their own. */
static void
open_warm(void)
{
	c = corsd_client_open(d.instance, 5000, NULL);
	assert_non_null(c);
	until_answered(1000, 10000);
}

static void
test_a_stopped_corsd_costs_one_timeout_then_misses_are_withheld(void **state)
{
	const unsigned timeout = 300;
	struct corsd_request hit, hit_pf, r;
	struct corsd_client_stats st;
	char buf[96], json[8192];
	unsigned fast = 0;
	uint64_t ms;

	(void)state;
	open_warm();
	/* Cached answers: the second time of each is a hit. */
	make(&hit, "https://app.example.com", false);
	make(&hit_pf, "https://app.example.com", true);
	for (int i = 0; i < 2; i++) {
		assert_engine_answer(&hit);
		assert_engine_answer(&hit_pf);
	}
	assert_int_equal(corsd_client_set_timeout(c, timeout), 0);

	assert_true(daemon_pause(&d));
	assert_miss_times_out(1, timeout);
	stats(&st);
	assert_int_equal(st.opens, 1);
	assert_int_equal(st.open, 1);
	assert_int_equal(st.backoff_ms, 100);
	assert_non_null(strstr(corsd_client_why(c),
			       "corsd did not answer within 300 ms"));

	/* Within the back-off: at once, and not posted; all but a few
	 * (preempted, on a loaded machine) in under 1 ms. */
	for (unsigned i = 2; i < 52; i++)
		fast += assert_miss_withheld(i);
	if (fast < 45)
		fail_msg("only %u of 50 withheld misses took under 1 ms", fast);
	/* Hits: the live policy's answers, from the cache. */
	for (int i = 0; i < 20; i++) {
		assert_engine_answer(&hit);
		assert_engine_answer(&hit_pf);
	}
	stats(&st);
	assert_int_equal(st.withheld, 50);
	assert_int_equal(st.probes, 0);
	assert_int_equal(st.opens, 1);

	daemon_resume(&d);
	ms = until_answered(100, BACKOFF_MAX_MS + timeout + SLACK_MS);
	print_message("answers back %llu ms after SIGCONT\n",
		      (unsigned long long)ms);
	for (unsigned i = 200; i < 220; i++) {
		make_miss(&r, buf, sizeof(buf), i);
		assert_engine_answer(&r);
	}
	stats(&st);
	assert_int_equal(st.open, 0);
	assert_int_equal(st.backoff_ms, 0);
	assert_true(st.probes >= 1);
	assert_string_equal(corsd_client_why(c), "");
	/* corsd sums the slot's counter into its stats (with the misses
	 * withheld after SIGCONT, until the probe). */
	assert_true(daemon_control(&d, "stats", json, sizeof(json)));
	assert_int_equal(json_field(json, "workers.withheld"), st.withheld);
	assert_int_equal(json_field(json, "workers.timeouts"), 1);
}

static void
test_a_stale_tick_alone_opens_the_breaker_without_a_wait(void **state)
{
	const unsigned timeout = 1000;
	struct corsd_client_stats st;
	struct corsd_request r;
	char buf[96];

	(void)state;
	open_warm();
	assert_int_equal(corsd_client_set_timeout(c, timeout), 0);

	/* corsd's tick is 500-600 ms old after this: past the 400 ms
	 * bound, and no miss has waited for it. */
	assert_true(daemon_pause(&d));
	sleep_ms(500);
	(void)assert_miss_withheld(1);
	stats(&st);
	assert_int_equal(st.opens, 1);
	assert_int_equal(st.withheld, 1);
	assert_non_null(strstr(corsd_client_why(c), "tick is"));

	/* Past the back-off one miss probes, waits the timeout, and the
	 * back-off doubles. */
	sleep_ms(120);
	assert_miss_times_out(2, timeout);
	stats(&st);
	assert_int_equal(st.probes, 1);
	assert_int_equal(st.backoff_ms, 200);
	assert_int_equal(st.opens, 1);

	/* Back: answered, and the tick that was stale when corsd answered
	 * does not open the breaker again. */
	daemon_resume(&d);
	until_answered(100, BACKOFF_MAX_MS + timeout + SLACK_MS);
	for (unsigned i = 200; i < 220; i++) {
		make_miss(&r, buf, sizeof(buf), i);
		assert_engine_answer(&r);
	}
	stats(&st);
	assert_int_equal(st.open, 0);
	assert_int_equal(st.opens, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_a_stopped_corsd_costs_one_timeout_then_misses_are_withheld,
			start, stop),
		cmocka_unit_test_setup_teardown(
			test_a_stale_tick_alone_opens_the_breaker_without_a_wait,
			start, stop),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
