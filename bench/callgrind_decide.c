/*
 * callgrind_decide.c - N decisions of one benchmark case, for callgrind.
 *
 * Layer: bench.  bench/callgrind.sh runs this under
 *	valgrind --tool=callgrind --instr-atstart=no --collect-atstart=no
 *		 --toggle-collect=corsd_decide
 * once per case of bench_cases.h, and divides the instructions collected
 * by N.  Loading and compiling the policy happen before instrumentation
 * starts; one warm-up decision (lazy symbol binding, first touches) is
 * made before it too, so only the N timed-free decisions are counted.
 *
 *	callgrind_decide --list            the case names, one a line
 *	callgrind_decide CASE [N]          N decisions of CASE (default 10000)
 * Exit status 1 when the case is unknown, does not compile, or is not
 * answered as expected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include "bench_cases.h"

static struct corsd_answer ans;

int
main(int argc, char **argv)
{
	const struct bench_case *c = NULL;
	struct corsd_snapshot *snap;
	struct corsd_request req;
	long n = 10000;
	int bad = 0;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < BENCH_NCASES; i++)
			printf("%s\n", bench_cases[i].name);
		return 0;
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s --list | CASE [N]\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < BENCH_NCASES; i++)
		if (strcmp(argv[1], bench_cases[i].name) == 0)
			c = &bench_cases[i];
	if (argc == 3)
		n = strtol(argv[2], NULL, 10);
	if (!c || n <= 0) {
		fprintf(stderr, "%s: unknown case '%s' or bad N\n", argv[0],
			argv[1]);
		return 1;
	}
	snap = bench_snapshot_new(c->policy);
	if (!snap)
		return 1;
	bench_request_init(c, &req);
	if (corsd_decide(snap, &req, &ans) != 0 || !bench_answer_ok(c, &ans))
		bad = 1;

	CALLGRIND_START_INSTRUMENTATION;
	for (long i = 0; i < n && !bad; i++)
		bad |= corsd_decide(snap, &req, &ans) != 0;
	CALLGRIND_STOP_INSTRUMENTATION;

	/* Every answer is the same; check the last as well. */
	if (!bad && !bench_answer_ok(c, &ans))
		bad = 1;
	printf("%s: %ld decisions, origins %ld, verdict %s\n", c->name, n,
	       bench_policy_norigins[c->policy],
	       corsd_verdict_name(ans.verdict));
	bench_request_release(&req);
	corsd_snapshot_free(snap);
	return bad;
}
