// proc_sampler.h - how much CPU a process has used, read from /proc: the
// kernel's utime + stime, its threads' schedstat run time, and their
// context switches (the idle-CPU benchmark samples corsd twice).
//
// Layer: bench (C++), Linux /proc only.  Rule: a sample is cumulative
// since the process started; only the difference of two samples of the
// same process means anything.
#ifndef CORSD_BENCH_PROC_SAMPLER_H
#define CORSD_BENCH_PROC_SAMPLER_H

#include <sys/types.h>

struct ProcCpu {
	double ticks;	 // utime + stime of the process, clock ticks
	double run_ns;	 // sum of its threads' schedstat run time
	double switches; // voluntary + involuntary, all threads
};

// Sample @pid into *@c; false when its stat or task directory cannot be
// read (a thread's schedstat or status that cannot be read counts as 0).
bool proc_cpu_sample(pid_t pid, ProcCpu *c);

#endif
