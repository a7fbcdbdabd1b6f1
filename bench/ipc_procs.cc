// ipc_procs.cc - the processes bench_ipc starts (see ipc_procs.h).
//
// Layer: bench (C++).  Rule: one table of children and one of corsd
// instances; procs_stop_all() walks both with async-signal-safe calls
// only (kill, waitpid, nanosleep, unlink, rmdir).

#include "ipc_procs.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// Up to 64 workers, the ping-pong peer and the AF_UNIX server at once.
constexpr unsigned kMaxChildren = 72;
constexpr unsigned kMaxDaemons = 4;

pid_t main_pid;
pid_t children[kMaxChildren];
struct daemon *daemons[kMaxDaemons];

void
forget(pid_t pid)
{
	for (pid_t &c : children)
		if (c == pid)
			c = 0;
}

// Kill and reap @pid; SIGTERM first when @grace_ms.
void
reap(pid_t pid, int sig, unsigned grace_ms)
{
	struct timespec ten = { 0, 10000000 };

	kill(pid, sig);
	for (unsigned i = 0; i < grace_ms / 10; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		nanosleep(&ten, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

// Remove what a corsd of @d may have left in its runtime directory: its
// files and, were it killed, its segments.  Only async-signal-safe calls.
void
daemon_remove(struct daemon *d)
{
	static const char *const suffix[] = { ".lock", ".sock", ".workers",
					       ".cache", ".slots" };
	char p[256];
	size_t n;

	if (!d->rundir[0])
		return;
	unlink(d->policy);
	n = std::strlen(d->rundir);
	std::memcpy(p, d->rundir, n);
	std::memcpy(p + n, "/corsd.log", 11);
	unlink(p);
	std::memcpy(p + n, "/policy.yaml.tmp", 17);
	unlink(p);
	for (const char *s : suffix) {
		size_t il = std::strlen(d->instance), sl = std::strlen(s);

		p[n] = '/';
		std::memcpy(p + n + 1, d->instance, il);
		std::memcpy(p + n + 1 + il, s, sl + 1);
		unlink(p);
	}
	rmdir(d->rundir);
	d->rundir[0] = '\0';
}

void
on_signal(int sig)
{
	procs_stop_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

void
on_exit_stop()
{
	procs_stop_all();
}

} // namespace

void
sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000u),
			       (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

void
procs_init()
{
	main_pid = getpid();
	std::atexit(on_exit_stop);
	for (int sig : { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT })
		signal(sig, on_signal);
	signal(SIGPIPE, SIG_IGN);
}

void
procs_stop_all()
{
	if (getpid() != main_pid)
		return;
	for (pid_t &c : children)
		if (c > 0) {
			reap(c, SIGKILL, 0);
			c = 0;
		}
	// Stopped in the reverse order of their start.
	for (unsigned i = kMaxDaemons; i-- > 0;)
		if (daemons[i])
			procs_corsd_stop(daemons[i]);
}

pid_t
procs_fork()
{
	pid_t *slot = nullptr, pid;

	for (pid_t &c : children)
		if (c == 0) {
			slot = &c;
			break;
		}
	if (!slot) {
		errno = EAGAIN;
		return -1;
	}
	pid = fork_worker();
	if (pid > 0)
		*slot = pid;
	return pid;
}

void
procs_reap(pid_t *pid, int sig, unsigned grace_ms)
{
	if (*pid <= 0)
		return;
	reap(*pid, sig, grace_ms);
	forget(*pid);
	*pid = 0;
}

bool
procs_corsd_start(struct daemon *d, const char *tag, const char *policy_text)
{
	static const char *const args[] = { "--threads", "1", "--spin-us",
					    "50", NULL };
	char log[256];
	int fd, saved;
	bool ok;

	for (unsigned i = 0; i < kMaxDaemons; i++)
		if (daemons[i] == d || !daemons[i]) {
			daemons[i] = d;
			break;
		}
	daemon_prepare(d, tag);	// also sets CORSD_RUNDIR for the child
	daemon_write_policy(d, policy_text);
	std::snprintf(log, sizeof(log), "%s/corsd.log", d->rundir);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	saved = dup(STDERR_FILENO);
	if (fd >= 0)
		dup2(fd, STDERR_FILENO);	// dup2 clears O_CLOEXEC on 2
	ok = daemon_start(d, args);
	dup2(saved, STDERR_FILENO);
	close(saved);
	if (fd >= 0)
		close(fd);
	if (!ok) {
		std::fprintf(stderr, "bench_ipc: corsd did not start (%s):\n",
			     d->bin);
		std::snprintf(log, sizeof(log), "cat '%s/corsd.log' >&2",
			      d->rundir);
		if (std::system(log) != 0)
			std::fprintf(stderr, "(no log)\n");
	}
	return ok;
}

void
procs_corsd_stop(struct daemon *d)
{
	daemon_stop(d);
	daemon_remove(d);
}

bool
procs_fleet_wait(FleetGate *g, int gate_fd)
{
	char one;

	__atomic_add_fetch(&g->ready, 1, __ATOMIC_SEQ_CST);
	return read(gate_fd, &one, 1) == 0;	// EOF: the gate is open
}

void
procs_fleet_fail(FleetGate *g)
{
	__atomic_add_fetch(&g->failed, 1, __ATOMIC_SEQ_CST);
}

bool
procs_run_fleet(benchmark::State &state, FleetGate *g, unsigned n,
		const std::function<void(unsigned, int)> &worker)
{
	std::vector<pid_t> pids(n);
	int gate[2];
	bool ok = true;

	if (pipe2(gate, O_CLOEXEC) != 0) {
		state.SkipWithError("pipe failed");
		return false;
	}
	for (unsigned w = 0; w < n; w++) {
		pids[w] = procs_fork();
		if (pids[w] == 0) {
			close(gate[1]);
			prctl(PR_SET_TIMERSLACK, 1UL);
			worker(w, gate[0]);
			_exit(1);	// not reached: a worker _exit()s
		}
		if (pids[w] < 0) {
			pids[w] = 0;
			ok = false;
			break;
		}
	}
	close(gate[0]);
	for (int t = 0; ok && t < 20000; t++) {
		if (__atomic_load_n(&g->failed, __ATOMIC_SEQ_CST))
			ok = false;
		else if (__atomic_load_n(&g->ready, __ATOMIC_SEQ_CST) == n)
			break;
		else
			usleep(1000);
	}
	if (ok && __atomic_load_n(&g->ready, __ATOMIC_SEQ_CST) != n) {
		std::fprintf(stderr, "bench_ipc: %u of %u workers ready\n",
			     (unsigned)__atomic_load_n(&g->ready,
						       __ATOMIC_SEQ_CST),
			     n);
		ok = false;
	}
	if (ok) {
		uint64_t d = g->end_ns - g->start_ns;

		g->start_ns = now_ns() + 10000000;	// all asleep by then
		g->end_ns = g->start_ns + d;
	}
	close(gate[1]);	// opens the gate (or, on failure, EOF all the same)
	for (unsigned w = 0; w < n; w++) {
		int st = 0;

		if (!ok) {
			procs_reap(&pids[w], SIGKILL, 0);
			continue;
		}
		if (waitpid(pids[w], &st, 0) != pids[w] ||
		    !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			std::fprintf(stderr,
				     "bench_ipc: worker %u: status 0x%x\n", w,
				     st);
			ok = false;
		}
		forget(pids[w]);
		pids[w] = 0;
	}
	if (!ok)
		state.SkipWithError("a worker process failed");
	return ok;
}

const char *const place_name[] = { "", "/apart", "/same-cpu" };

bool
pin_process(pid_t pid, int cpu)
{
	char path[64];
	DIR *dir;
	struct dirent *de;
	cpu_set_t set;
	bool ok = true;

	CPU_ZERO(&set);
	if (cpu < 0)
		for (long i = 0; i < sysconf(_SC_NPROCESSORS_ONLN) && i < 1024;
		     i++)
			CPU_SET(i, &set);
	else
		CPU_SET(cpu, &set);
	std::snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(dir = opendir(path)))
		return false;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.' &&
		    sched_setaffinity((pid_t)std::atoi(de->d_name), sizeof(set),
				      &set) != 0)
			ok = false;
	closedir(dir);
	return ok;
}

bool
place(Place pl, pid_t peer)
{
	if (pl != ANY && sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return false;
	switch (pl) {
	case ANY:
		return pin_process(getpid(), -1) && pin_process(peer, -1);
	case APART:
		return pin_process(getpid(), 1) && pin_process(peer, 0);
	case SAME:
		return pin_process(getpid(), 0) && pin_process(peer, 0);
	}
	return false;
}
