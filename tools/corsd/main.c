/*
 * main.c - corsd, the daemon: options, runtime directory and instance
 * lock, daemonising, signals, start and orderly stop.
 *
 * Layer: tools/corsd, over ipc/server and the engine.  Rules: nothing is
 * created until the policy file has compiled; the instance lock is held
 * from before the first shared object is created until after the last is
 * removed; signals are taken synchronously from a signalfd in the main
 * thread (every thread blocks them), so no work ever runs in a signal
 * handler.
 *
 * Threads: main (signals), N serving, housekeeping, reload, control,
 * registration and, with --watch, watch.  All of them are joined before exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control_int.h"
#include "corsd_engine.h"
#include "daemon_int.h"
#include "log_int.h"
#include "os.h"
#include "register_int.h"
#include "reload_int.h"
#include "serve_int.h"
#include "watch_int.h"

#define EXIT_USAGE	 2
#define READY_TIMEOUT_MS 60000

enum {
	OPT_THREADS = 256,
	OPT_SLOTS,
	OPT_CACHE_ENTRIES,
	OPT_CACHE_TTL,
	OPT_SPIN_US,
	OPT_INSTANCE,
	OPT_GROUP,
	OPT_WATCH,
};

static const struct option long_opts[] = {
	{"config", required_argument, NULL, 'c'},
	{"instance", required_argument, NULL, OPT_INSTANCE},
	{"group", required_argument, NULL, OPT_GROUP},
	{"foreground", no_argument, NULL, 'f'},
	{"watch", no_argument, NULL, OPT_WATCH},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"slots", required_argument, NULL, OPT_SLOTS},
	{"cache-entries", required_argument, NULL, OPT_CACHE_ENTRIES},
	{"cache-ttl", required_argument, NULL, OPT_CACHE_TTL},
	{"spin-us", required_argument, NULL, OPT_SPIN_US},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static struct corsd_daemon daemon_state = {
	.instance = "default",
	.gid = (gid_t)-1,
	.threads = 1,
	.slots = 256,
	.cache_entries = 16384,
	.cache_ttl_ms = 60000,
	.spin_us = 50,
	.stop_fd = -1,
	.server_lock = PTHREAD_MUTEX_INITIALIZER,
	/* Not descriptor 0: nothing is open yet. */
	.lock_fd = -1,
	.ready_fd = -1,
	.control = {.listen_fd = -1},
	.registrar = {.listen_fd = -1},
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: corsd -c FILE [--instance NAME] [--group G] "
		"[--foreground] [--watch]\n"
		"             [--threads N] [--slots N] [--cache-entries N] "
		"[--cache-ttl MS]\n"
		"             [--spin-us US]\n"
		"\n"
		"  -c, --config FILE    the policy file (YAML or JSON)\n"
		"  --instance NAME      instance name, 1-32 of [A-Za-z0-9_-] "
		"(default: default)\n"
		"  --group G            group owning the segments and the "
		"sockets (name or number)\n"
		"  -f, --foreground     stay in the foreground, log to stderr "
		"only\n"
		"  --watch              reload when the policy file changes\n"
		"  --threads N          serving threads, 1-%u (default: 1)\n"
		"  --slots N            worker request slots, 1-%u "
		"(default: 256)\n"
		"  --cache-entries N    decision cache entries, 1-%u "
		"(default: 16384)\n"
		"  --cache-ttl MS       longest a cached answer without "
		"max-age lives, 1-%u\n"
		"                       (default: 60000)\n"
		"  --spin-us US         spin this long for work before "
		"sleeping, 0-%u (default: 50)\n"
		"\n"
		"Runtime directory: $CORSD_RUNDIR, else " CORSD_RUNDIR_DEFAULT
		".\n"
		"SIGHUP reloads the policy; SIGTERM or SIGINT stops.\n",
		CORSD_THREADS_MAX, CORSD_SLOTS_MAX, CORSD_CACHE_ENTRIES_MAX,
		CORSD_CACHE_TTL_MAX_MS, CORSD_SPIN_US_MAX);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("corsd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'corsd --help'.\n", stderr);
	exit(EXIT_USAGE);
}

static unsigned
parse_unsigned(const char *opt, const char *arg, unsigned min, unsigned max)
{
	unsigned long long v;
	char *end;

	if (arg[0] < '0' || arg[0] > '9')
		usage_error("--%s: '%s' is not a number", opt, arg);
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*end)
		usage_error("--%s: '%s' is not a number", opt, arg);
	if (errno == ERANGE || v < min || v > max)
		usage_error("--%s: %s is out of range (%u-%u)", opt, arg, min,
			    max);
	return (unsigned)v;
}

/* @path made absolute against the working directory, into @buf: the
 * daemon runs in "/".  Symlinks are kept: --watch must see them. */
static int
make_absolute(const char *path, char *buf, size_t size)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/')
		n = snprintf(buf, size, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)))
		n = snprintf(buf, size, "%s/%s", cwd, path);
	else
		return -1;
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void
parse_args(struct corsd_daemon *d, int argc, char **argv)
{
	char shm[CORSD_SHM_NAME_MAX];
	const char *rundir;
	int c, n;

	opterr = 0; /* our own messages, in our own words */
	while ((c = getopt_long(argc, argv, ":c:fh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d->policy_name = optarg;
			break;
		case OPT_INSTANCE:
			d->instance = optarg;
			break;
		case OPT_GROUP:
			d->group = optarg;
			break;
		case 'f':
			d->foreground = true;
			break;
		case OPT_WATCH:
			d->watch = true;
			break;
		case OPT_THREADS:
			d->threads = parse_unsigned("threads", optarg, 1,
						    CORSD_THREADS_MAX);
			break;
		case OPT_SLOTS:
			d->slots = parse_unsigned("slots", optarg, 1,
						  CORSD_SLOTS_MAX);
			break;
		case OPT_CACHE_ENTRIES:
			d->cache_entries =
				parse_unsigned("cache-entries", optarg, 1,
					       CORSD_CACHE_ENTRIES_MAX);
			break;
		case OPT_CACHE_TTL:
			d->cache_ttl_ms = parse_unsigned(
				"cache-ttl", optarg, 1, CORSD_CACHE_TTL_MAX_MS);
			break;
		case OPT_SPIN_US:
			d->spin_us = parse_unsigned("spin-us", optarg, 0,
						    CORSD_SPIN_US_MAX);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			usage_error("option '%s' needs a value",
				    argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!d->policy_name)
		usage_error("no policy file: give -c FILE");
	if (!d->policy_name[0])
		usage_error("-c: the policy file name is empty");
	if (make_absolute(d->policy_name, d->policy_abs, sizeof(d->policy_abs)))
		usage_error("-c: cannot make '%s' an absolute path",
			    d->policy_name);
	d->policy_path = d->policy_abs;

	if (!d->instance[0] ||
	    corsd_os_instance_path(shm, sizeof(shm), "/", d->instance,
				   "cache") != 0)
		usage_error("--instance: '%s' is not an instance name (1-32 "
			    "characters of A-Z a-z 0-9 _ -)",
			    d->instance);
	if (d->group && corsd_os_group(d->group, &d->gid) != 0)
		usage_error("--group: no group '%s'", d->group);

	rundir = corsd_os_rundir();
	if (make_absolute(rundir, d->rundir, sizeof(d->rundir)))
		usage_error("CORSD_RUNDIR: cannot make '%s' an absolute path",
			    rundir);
	n = snprintf(d->lock_path, sizeof(d->lock_path), "%s/%s.lock",
		     d->rundir, d->instance);
	if (n < 0 || (size_t)n >= sizeof(d->lock_path))
		usage_error("runtime directory '%s': path too long", d->rundir);
	if (corsd_os_instance_path(shm, sizeof(shm), d->rundir, d->instance,
				   "slots") != 0)
		usage_error("runtime directory '%s': path too long", d->rundir);
	n = snprintf(d->sock_path, sizeof(d->sock_path), "%s/%s.sock",
		     d->rundir, d->instance);
	if (n < 0 || (size_t)n >= sizeof(d->sock_path))
		usage_error("runtime directory '%s': the socket path would be "
			    "longer than %zu bytes",
			    d->rundir, sizeof(d->sock_path) - 1);
	n = snprintf(d->workers_path, sizeof(d->workers_path), "%s/%s.workers",
		     d->rundir, d->instance);
	if (n < 0 || (size_t)n >= sizeof(d->workers_path))
		usage_error("runtime directory '%s': the socket path would be "
			    "longer than %zu bytes",
			    d->rundir, sizeof(d->workers_path) - 1);
}

/* ---- runtime directory and lock --------------------------------------- */

static int
make_rundir(const struct corsd_daemon *d)
{
	struct stat st;

	if (mkdir(d->rundir, 0750) == 0) {
		/* Exactly 0750 whatever the umask, and the group's. */
		if (chmod(d->rundir, 0750) != 0 ||
		    (d->gid != (gid_t)-1 &&
		     chown(d->rundir, (uid_t)-1, d->gid) != 0)) {
			corsd_log(LOG_ERR,
				  "cannot set the mode or group of '%s': %s",
				  d->rundir, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (errno != EEXIST) {
		corsd_log(LOG_ERR, "cannot create runtime directory '%s': %s",
			  d->rundir, strerror(errno));
		return -1;
	}
	if (lstat(d->rundir, &st) == 0 && S_ISLNK(st.st_mode) &&
	    stat(d->rundir, &st) != 0) {
		corsd_log(LOG_ERR, "runtime directory '%s' is a dangling link",
			  d->rundir);
		return -1;
	}
	if (stat(d->rundir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		corsd_log(LOG_ERR, "runtime directory '%s' is not a directory",
			  d->rundir);
		return -1;
	}
	/* Workers trust what is in it because only corsd's user can write
	 * there (SECURITY.md): a directory someone else owns, or may write
	 * into, could hold their files under our names. */
	if (st.st_uid != geteuid()) {
		corsd_log(LOG_ERR,
			  "runtime directory '%s' is owned by uid %u, not "
			  "corsd's uid %u; refusing to use it (remove it, or "
			  "give corsd its own with CORSD_RUNDIR)",
			  d->rundir, (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		corsd_log(LOG_ERR,
			  "runtime directory '%s' is writable by %s (mode "
			  "%04o); refusing to use it (chmod go-w it)",
			  d->rundir,
			  st.st_mode & S_IWOTH ? "others" : "its group",
			  (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

static int
take_lock(struct corsd_daemon *d)
{
	char buf[32];
	ssize_t n;
	long pid;
	int fd;

	fd = open(d->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		  0640);
	if (fd < 0) {
		corsd_log(LOG_ERR, "cannot open lock file '%s': %s",
			  d->lock_path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK) {
			corsd_log(LOG_ERR, "cannot lock '%s': %s", d->lock_path,
				  strerror(errno));
		} else {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			pid = strtol(buf, NULL, 10);
			if (pid > 0)
				corsd_log(LOG_ERR,
					  "instance '%s' is already running "
					  "(pid %ld holds '%s')",
					  d->instance, pid, d->lock_path);
			else
				corsd_log(LOG_ERR,
					  "instance '%s' is already running "
					  "(another process holds '%s')",
					  d->instance, d->lock_path);
		}
		close(fd);
		return -1;
	}
	/* The lock file is never unlinked: a process that opened it just
	 * before an unlink would lock an inode nobody else sees. */
	if ((d->gid != (gid_t)-1 && fchown(fd, (uid_t)-1, d->gid) != 0) ||
	    fchmod(fd, 0640) != 0)
		corsd_log(LOG_WARNING,
			  "cannot set the group or mode of '%s': %s",
			  d->lock_path, strerror(errno));
	d->lock_fd = fd;
	return 0;
}

/* Write our pid into the lock file, for the next one's message. */
static void
record_pid(struct corsd_daemon *d)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(d->lock_fd, 0) != 0 ||
	    pwrite(d->lock_fd, buf, (size_t)n, 0) != n)
		corsd_log(LOG_WARNING, "cannot write the pid to the lock file");
}

static void
release_lock(struct corsd_daemon *d)
{
	if (d->lock_fd < 0)
		return;
	/* Empty: no pid in it says nobody holds it. */
	if (ftruncate(d->lock_fd, 0) != 0)
		corsd_log(LOG_WARNING, "cannot empty the lock file");
	close(d->lock_fd);
	d->lock_fd = -1;
}

/* ---- daemonising ------------------------------------------------------ */

/*
 * Double fork and setsid.  The original process stays until the daemon
 * says it is serving (or fails), so that its exit status tells the
 * truth; the daemon keeps stderr until then, for the same reason.
 */
static void
daemonise(struct corsd_daemon *d)
{
	struct pollfd pfd;
	unsigned char status = 1;
	int fds[2], null_fd;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		corsd_log(LOG_ERR, "pipe: %s", strerror(errno));
		exit(1);
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		corsd_log(LOG_ERR, "fork: %s", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(fds[1]);
		waitpid(pid, NULL, 0);
		pfd.fd = fds[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, READY_TIMEOUT_MS) == 1 &&
		    read(fds[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(fds[0]);
	if (setsid() < 0)
		_exit(1);
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		_exit(1);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
	    dup2(null_fd, STDOUT_FILENO) < 0)
		_exit(1);
	if (null_fd > STDERR_FILENO)
		close(null_fd);
	d->ready_fd = fds[1];
}

/* Tell the waiting parent how the start went; let go of the terminal. */
static void
notify_parent(struct corsd_daemon *d, unsigned char status)
{
	int null_fd;

	if (d->ready_fd < 0)
		return;
	if (write(d->ready_fd, &status, 1) != 1)
		corsd_log(LOG_WARNING, "cannot report readiness");
	close(d->ready_fd);
	d->ready_fd = -1;
	corsd_log_detach();
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd >= 0) {
		dup2(null_fd, STDERR_FILENO);
		if (null_fd > STDERR_FILENO)
			close(null_fd);
	}
}

/* ---- start and stop --------------------------------------------------- */

void
corsd_daemon_signal_stop(struct corsd_daemon *d)
{
	uint64_t one = 1;

	if (d->stop_fd >= 0 && write(d->stop_fd, &one, sizeof(one)) < 0)
		corsd_log(LOG_ERR, "cannot signal the threads to stop: %s",
			  strerror(errno));
}

/* Undo whatever of start() happened; every step tolerates "not begun". */
static void
stop(struct corsd_daemon *d)
{
	if (d->server) {
		/* Workers stop posting; requests in flight are still
		 * answered by the threads about to stop. */
		pthread_mutex_lock(&d->server_lock);
		corsd_server_set_state(d->server, CORSD_STATE_STOPPED);
		pthread_mutex_unlock(&d->server_lock);
	}
	corsd_serve_stop(d);
	corsd_daemon_signal_stop(d);
	/* A reload under way completes first: its old snapshot is freed
	 * after its grace period, not leaked. */
	corsd_reload_stop(d);
	corsd_control_join(d);
	corsd_register_join(d);
	corsd_watch_join(d);
	corsd_housekeeping_join(d);
	corsd_server_close(d->server);
	d->server = NULL;
	corsd_control_close(d);
	corsd_register_close(d);
	corsd_serve_release(d);
	corsd_reload_release(d);
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	d->stop_fd = -1;
}

static int
start(struct corsd_daemon *d)
{
	struct corsd_server_config cfg = {
		.rundir = d->rundir,
		.instance = d->instance,
		.gid = d->gid,
		.nslots = d->slots,
		.cache_entries = d->cache_entries,
		.cache_ttl_ms = d->cache_ttl_ms,
		.spin_us = d->spin_us,
	};
	int err = 0;

	d->start_ms = corsd_os_now_ms();
	d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->stop_fd < 0) {
		corsd_log(LOG_ERR, "eventfd: %s", strerror(errno));
		return -1;
	}
	d->server = corsd_server_open(&cfg, &err);
	if (!d->server) {
		corsd_log(LOG_ERR,
			  "cannot create the shared memory of instance '%s': "
			  "%s",
			  d->instance, corsd_strerror(err));
		return -1;
	}
	corsd_server_publish_generation(d->server, corsd_reload_generation(d));
	if (corsd_control_open(d) != 0 || corsd_register_open(d) != 0 ||
	    corsd_reload_start(d) != 0 || corsd_serve_start(d) != 0 ||
	    corsd_control_start(d) != 0 || corsd_register_start(d) != 0 ||
	    (d->watch && corsd_watch_start(d) != 0))
		return -1;
	pthread_mutex_lock(&d->server_lock);
	corsd_server_set_state(d->server, CORSD_STATE_SERVING);
	pthread_mutex_unlock(&d->server_lock);
	return 0;
}

/* Take signals until one says stop. */
static void
signal_loop(struct corsd_daemon *d, int sfd)
{
	struct signalfd_siginfo si;
	struct pollfd pfd = {.fd = sfd, .events = POLLIN};
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		n = read(sfd, &si, sizeof(si));
		if (n != (ssize_t)sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGHUP:
			corsd_log(LOG_INFO, "SIGHUP: reloading %s",
				  d->policy_name);
			corsd_reload_request(d);
			break;
		case SIGTERM:
		case SIGINT:
			corsd_log(LOG_INFO, "%s: stopping",
				  si.ssi_signo == SIGTERM ? "SIGTERM"
							  : "SIGINT");
			return;
		default:
			break;
		}
	}
}

int
main(int argc, char **argv)
{
	struct corsd_daemon *d = &daemon_state;
	sigset_t set;
	bool serving = false;
	int sfd, status = 0;

	parse_args(d, argc, argv);
	/* A daemon keeps no descriptor its starter happened to leave open
	 * (a pipe held open would keep the starter waiting for EOF). */
	if (!d->foreground)
		close_range(STDERR_FILENO + 1, ~0u, 0);

	/* Blocked before any thread exists, so every thread inherits the
	 * mask and the signals queue for the signalfd alone. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
		perror("corsd: sigprocmask");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	corsd_log_open(!d->foreground);
	if (corsd_reload_init(d) != 0)
		return 1;
	if (make_rundir(d) != 0 || take_lock(d) != 0) {
		corsd_reload_release(d);
		return 1;
	}
	if (!d->foreground)
		daemonise(d);
	record_pid(d);

	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		corsd_log(LOG_ERR, "signalfd: %s", strerror(errno));
		status = 1;
	} else if (start(d) != 0) {
		status = 1;
	} else {
		struct corsd_reload_stats rs;

		corsd_reload_get_stats(d, &rs);
		corsd_log(LOG_INFO,
			  "serving instance '%s': %s generation %llu, %zu %s; "
			  "%u serving %s, %u slots, %u cache entries%s",
			  d->instance, d->policy_name,
			  (unsigned long long)rs.generation, rs.policies,
			  rs.policies == 1 ? "policy" : "policies", d->threads,
			  d->threads == 1 ? "thread" : "threads", d->slots,
			  d->cache_entries, d->watch ? ", watching" : "");
		notify_parent(d, 0);
		serving = true;
		signal_loop(d, sfd);
	}
	stop(d);
	if (sfd >= 0)
		close(sfd);
	release_lock(d);
	if (serving)
		corsd_log(LOG_INFO, "stopped instance '%s'", d->instance);
	notify_parent(d, (unsigned char)status);
	corsd_log_close();
	return status;
}
