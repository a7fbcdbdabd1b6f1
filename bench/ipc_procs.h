// ipc_procs.h - the processes bench_ipc starts, where they run, and
// stopping them: corsd instances, forked children (the workers, the
// ping-pong peer, the AF_UNIX server), a gated fleet of workers, and CPU
// placement.
//
// Layer: bench (C++), over the IPC tests' harness (tests/ipc/ipcutil.c:
// corsd from the build directory, $(B)/bench/../corsd, a fresh instance
// and $CORSD_RUNDIR, children with PR_SET_PDEATHSIG).  Rule: whatever is
// started here is recorded here, and procs_stop_all() stops all of it,
// with async-signal-safe calls only, when the program ends: on exit, on
// SIGINT, SIGTERM, SIGHUP, SIGQUIT or abort().  Children die with this
// process in any case.
#ifndef CORSD_BENCH_IPC_PROCS_H
#define CORSD_BENCH_IPC_PROCS_H

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>

#include <sys/types.h>
#include <time.h>

extern "C" {
#include "ipcutil.h"
}

// The clock of every figure bench_ipc reads.
inline uint64_t
now_ns()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sleep_until(uint64_t t);

// Record this process as the one that stops everything, and install the
// exit and signal handlers (SIGPIPE is ignored).  Call first in main().
void procs_init();

// Stop everything started here; safe to call twice, from a signal handler,
// and (doing nothing) in a child.
void procs_stop_all();

// Fork a child that dies with this process, recorded until it is reaped:
// its pid in this process, 0 in the child, -1 on failure.
pid_t procs_fork();

// Kill and reap *@pid (SIGKILL after @grace_ms), forget it, set it to 0.
void procs_reap(pid_t *pid, int sig, unsigned grace_ms);

// Start corsd on @policy_text with --threads 1 --spin-us 50, its stderr in
// RUNDIR/corsd.log (shown on failure); recorded until procs_corsd_stop().
bool procs_corsd_start(struct daemon *d, const char *tag,
		       const char *policy_text);

// Stop corsd and remove what it left: its runtime directory, its segments.
void procs_corsd_stop(struct daemon *d);

// The head of a worker fleet's shared mapping (MAP_SHARED, zeroed).
struct FleetGate {
	uint64_t ready;	   // __atomic: workers attached and warm
	uint64_t failed;   // __atomic: workers that could not start
	uint64_t start_ns; // written before the gate opens
	uint64_t end_ns;
};

// In a worker: say it is warm, then wait for the gate to open.  Returns
// false when the fleet is called off.
bool procs_fleet_wait(FleetGate *g, int gate_fd);

// In a worker: say it could not start; the fleet is called off.
void procs_fleet_fail(FleetGate *g);

// Fork @n workers running @worker(w, gate_fd), which never returns (it
// warms up, then procs_fleet_wait() or procs_fleet_fail(), then runs and
// _exit()s).  Once all are warm, start_ns is set 10 ms ahead (end_ns
// keeps its distance to it) and the gate opens; then all are reaped.
// false (and the benchmark skipped with the reason) when one failed.
bool procs_run_fleet(benchmark::State &state, FleetGate *g, unsigned n,
		     const std::function<void(unsigned, int)> &worker);

// CPU placement of this process and a peer.
enum Place {
	ANY,   // wherever the scheduler puts them
	APART, // this process on CPU 1; corsd (or the peer) on CPU 0
	SAME,  // both on CPU 0
};

extern const char *const place_name[]; // "", "/apart", "/same-cpu"

// Every thread of @pid on @cpu (-1: on every CPU).
bool pin_process(pid_t pid, int cpu);

// Place this process and @peer; ANY undoes an earlier placement.
bool place(Place pl, pid_t peer);

#endif
