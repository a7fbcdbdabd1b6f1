// bench_decide.cc - Google Benchmark over corsd_decide() and
// corsd_snapshot_compile().
//
// Layer: bench.  A thin C++ harness over the engine's C API; the matrix of
// policies and requests lives in bench_cases.h, shared with the callgrind
// driver.  Policies are loaded and compiled outside the timed loops;
// request strings are heap copies made at run time, each result goes
// through benchmark::DoNotOptimize and benchmark::ClobberMemory keeps the
// answer's stores, so nothing is folded away.  Each request is checked
// once before timing: a case whose verdict is not the expected one is
// reported as an error, never timed.
//
//   BM_Decide/<policy>/<request>/<verdict>   policy one | two | multiple |
//                          1000 | any | 100k; one request, repeated
//   BM_DecideRotating/...  cycles through many allowed origins of a big
//                          table (colder cache); informative
//   BM_Compile/<origins>   corsd_snapshot_compile() alone (manual timing;
//                          the free after each compile is the counter
//                          free_ms)
//   BM_Load/100000         YAML load + validation, for scale
//
// After the run, the goals of issue 2 are checked against the medians (or
// the single runs) of this same run and printed as a summary.
//
//	make bench    (or: build/release/bench/bench_decide
//	    --benchmark_min_time=0.2 --benchmark_repetitions=10
//	    --benchmark_enable_random_interleaving=true
//	    --benchmark_report_aggregates_only=true)

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "bench_cases.h"
#include "bench_main.h"

namespace {

// One snapshot per policy, compiled on first use and kept for the run.
struct corsd_snapshot *snapshots[BP__COUNT];

struct corsd_snapshot *
snapshot(enum bench_policy bp)
{
	if (!snapshots[bp])
		snapshots[bp] = bench_snapshot_new(bp);
	return snapshots[bp];
}

struct AnswerFree {
	void operator()(struct corsd_answer *a) const { std::free(a); }
};

void
BM_Decide(benchmark::State &state, const struct bench_case *c)
{
	struct corsd_snapshot *snap = snapshot(c->policy);
	std::unique_ptr<struct corsd_answer, AnswerFree> ans(
		static_cast<struct corsd_answer *>(
			std::aligned_alloc(64, sizeof(struct corsd_answer))));
	struct corsd_request req;

	if (!snap) {
		state.SkipWithError("policy does not load or compile");
		return;
	}
	bench_request_init(c, &req);
	if (corsd_decide(snap, &req, ans.get()) != 0 ||
	    !bench_answer_ok(c, ans.get())) {
		bench_request_release(&req);
		state.SkipWithError("unexpected answer (see stderr)");
		return;
	}
	for (auto _ : state) {
		int rc = corsd_decide(snap, &req, ans.get());

		benchmark::DoNotOptimize(rc);
		benchmark::ClobberMemory();
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["headers"] = ans->nheaders;
	state.counters["block_bytes"] = ans->block_len;
	state.counters["origins"] =
		static_cast<double>(bench_policy_norigins[c->policy]);
	bench_request_release(&req);
}

// As BM_Decide, but cycling through @k different allowed origins of a
// generated table, so that the table's slots and keys are not all hot in
// the cache (BM_Decide repeats one request).  Informative; not a goal.
void
BM_DecideRotating(benchmark::State &state, enum bench_policy bp, long k)
{
	struct corsd_snapshot *snap = snapshot(bp);
	std::unique_ptr<struct corsd_answer, AnswerFree> ans(
		static_cast<struct corsd_answer *>(
			std::aligned_alloc(64, sizeof(struct corsd_answer))));
	std::vector<struct corsd_request> reqs(static_cast<size_t>(k));
	long n = bench_policy_norigins[bp];
	size_t i = 0;

	if (!snap) {
		state.SkipWithError("policy does not load or compile");
		return;
	}
	for (long j = 0; j < k; j++) {
		struct bench_case c = { "rotating", bp, "GET", NULL,
					(j * 7919L) % n, NULL, NULL,
					CORSD_VERDICT_ALLOW };

		bench_request_init(&c, &reqs[static_cast<size_t>(j)]);
		if (corsd_decide(snap, &reqs[static_cast<size_t>(j)],
				 ans.get()) != 0 ||
		    !bench_answer_ok(&c, ans.get()))
			state.SkipWithError("unexpected answer (see stderr)");
	}
	if (!state.error_occurred()) {
		for (auto _ : state) {
			int rc = corsd_decide(snap, &reqs[i], ans.get());

			benchmark::DoNotOptimize(rc);
			benchmark::ClobberMemory();
			i = i + 1 == reqs.size() ? 0 : i + 1;
		}
		state.SetItemsProcessed(state.iterations());
	}
	state.counters["origins"] = static_cast<double>(n);
	state.counters["distinct"] = static_cast<double>(k);
	for (auto &r : reqs)
		bench_request_release(&r);
}

// Compile time of @bp's table: the YAML is loaded once, outside timing.
void
BM_Compile(benchmark::State &state, enum bench_policy bp)
{
	using clock = std::chrono::steady_clock;
	struct corsd_policy_set *set = bench_policy_load(bp);
	double free_s = 0, bytes = 0;

	if (!set) {
		state.SkipWithError("policy does not load");
		return;
	}
	for (auto _ : state) {
		int err = 0;
		auto t0 = clock::now();
		struct corsd_snapshot *snap =
			corsd_snapshot_compile(set, 1, &err);
		auto t1 = clock::now();

		benchmark::DoNotOptimize(snap);
		if (!snap) {
			state.SkipWithError("snapshot does not compile");
			break;
		}
		bytes = static_cast<double>(corsd_snapshot_size(snap));
		corsd_snapshot_free(snap);
		auto t2 = clock::now();
		state.SetIterationTime(
			std::chrono::duration<double>(t1 - t0).count());
		free_s += std::chrono::duration<double>(t2 - t1).count();
	}
	state.counters["origins"] =
		static_cast<double>(bench_policy_norigins[bp]);
	state.counters["snapshot_bytes"] = bytes;
	state.counters["free_ms"] = benchmark::Counter(
		free_s * 1e3, benchmark::Counter::kAvgIterations);
	corsd_policy_set_free(set);
}

// Loading (YAML parse + validation) of @bp, for scale: a reload costs
// load + compile.  Not one of the goals.
void
BM_Load(benchmark::State &state, enum bench_policy bp)
{
	size_t len;
	char *yaml = bench_policy_yaml(bp, &len);

	for (auto _ : state) {
		struct corsd_diags d;
		int err = 0;

		corsd_diags_init(&d);
		struct corsd_policy_set *set = corsd_policy_set_load_buffer(
			"bench.yaml", yaml, len, &d, &err);
		benchmark::DoNotOptimize(set);
		corsd_diags_release(&d);
		if (!set) {
			state.SkipWithError("policy does not load");
			break;
		}
		corsd_policy_set_free(set);
	}
	state.counters["origins"] =
		static_cast<double>(bench_policy_norigins[bp]);
	state.counters["yaml_bytes"] = static_cast<double>(len);
	std::free(yaml);
}

// The goals of issue 2, judged on real time with CPU time beside it.
const GoalReporter::Layout goal_layout = { 58, 2 };

void
at_most(const GoalReporter &g, const std::string &n, double limit,
	const char *what)
{
	if (const GoalReporter::Figure *f = g.figure(n))
		g.line(GoalReporter::verdict(f->real_ns <= limit),
		       n + " " + what, f->real_ns, "ns", f->cpu_ns);
}

// The 1000-origin case over the one-origin case, goal <= 1.5x.
void
ratio(const GoalReporter &g, const char *kind, const std::string &many,
      const std::string &one)
{
	const GoalReporter::Figure *m = g.figure(many), *o = g.figure(one);

	if (!m || !o)
		return;
	double r = m->real_ns / o->real_ns;

	g.line(GoalReporter::verdict(r <= 1.5),
	       std::string("1000 origins / one origin, ") + kind +
		       " allowed <= 1.5x",
	       r, "x", m->cpu_ns / o->cpu_ns);
}

void
goals(const GoalReporter &g)
{
	std::printf("\nGoals (issue 2), p50 of this run "
		    "(judged on real time; CPU time beside it):\n");
	for (size_t i = 0; i < BENCH_NCASES; i++) {
		std::string n = std::string("BM_Decide/") + bench_cases[i].name;

		if (n.find("/actual/allowed") != std::string::npos)
			at_most(g, n, 40, "<= 40 ns");
	}
	at_most(g, "BM_Decide/one/preflight-3-headers/allowed", 100,
		"<= 100 ns");
	ratio(g, "actual", "BM_Decide/1000/actual/allowed",
	      "BM_Decide/one/actual/allowed");
	ratio(g, "preflight", "BM_Decide/1000/preflight/allowed",
	      "BM_Decide/one/preflight/allowed");
	if (const GoalReporter::Figure *f = g.figure("BM_Compile/100000"))
		g.line(GoalReporter::verdict(f->real_ns / 1e6 <= 150),
		       "BM_Compile/100000 <= 150 ms", f->real_ns / 1e6, "ms",
		       f->cpu_ns / 1e6);
}

} // namespace

int
main(int argc, char **argv)
{
	for (size_t i = 0; i < BENCH_NCASES; i++) {
		const struct bench_case *c = &bench_cases[i];

		std::string name = std::string("BM_Decide/") + c->name;

		benchmark::RegisterBenchmark(name.c_str(), BM_Decide, c);
	}
	benchmark::RegisterBenchmark(
		"BM_DecideRotating/1000/actual/allowed/1000-origins",
		BM_DecideRotating, BP_1000, 1000L);
	benchmark::RegisterBenchmark(
		"BM_DecideRotating/100k/actual/allowed/4096-origins",
		BM_DecideRotating, BP_100K, 4096L);
	benchmark::RegisterBenchmark("BM_Compile/1000", BM_Compile, BP_1000)
		->UseManualTime()
		->Unit(benchmark::kMillisecond);
	benchmark::RegisterBenchmark("BM_Compile/100000", BM_Compile, BP_100K)
		->UseManualTime()
		->Unit(benchmark::kMillisecond);
	benchmark::RegisterBenchmark("BM_Load/100000", BM_Load, BP_100K)
		->Unit(benchmark::kMillisecond);

	int rc = bench_run(argc, argv, goal_layout, goals);

	if (rc)
		return rc;
	for (auto &s : snapshots)
		corsd_snapshot_free(s);
	// Missed goals are reported, not failed: `make bench` measures.
	return 0;
}
