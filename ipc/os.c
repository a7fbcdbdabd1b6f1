/*
 * os.c - Linux specifics behind ipc/os.h: futexes, shared-memory files
 * in the runtime directory and their provenance, permissions, clocks,
 * process liveness, randomness.
 *
 * Layer: ipc.  Linked into both the client library (a worker) and the
 * daemon, so nothing here allocates after setup or logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "corsd_err.h"
#include "os.h"

int
corsd_os_futex_wait(_Atomic uint32_t *addr, uint32_t expected,
		    int64_t timeout_ns)
{
	struct timespec ts, *tp = NULL;
	long rc;

	if (timeout_ns >= 0) {
		ts.tv_sec = (time_t)(timeout_ns / 1000000000);
		ts.tv_nsec = (long)(timeout_ns % 1000000000);
		tp = &ts;
	}
	/* Not FUTEX_PRIVATE_FLAG: the word lives in a shared mapping and
	 * the waker is another process. */
	rc = syscall(SYS_futex, (void *)(uintptr_t)addr, FUTEX_WAIT, expected,
		     tp, NULL, 0);
	if (rc == -1 && errno == ETIMEDOUT)
		return -CORSD_ETIMEDOUT;
	return 0;
}

void
corsd_os_futex_wake(_Atomic uint32_t *addr, int n)
{
	syscall(SYS_futex, (void *)(uintptr_t)addr, FUTEX_WAKE, n, NULL, NULL,
		0);
}

void
corsd_os_yield(void)
{
	sched_yield();
}

uint64_t
corsd_os_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
corsd_os_now_ms(void)
{
	struct timespec ts;

	/* Coarse: a vDSO read of the last tick, cheap enough for the cache
	 * hit path; a few ms of resolution is plenty for expiry. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *
corsd_os_rundir(void)
{
	const char *d = getenv("CORSD_RUNDIR");

	return d && d[0] ? d : CORSD_RUNDIR_DEFAULT;
}

int
corsd_os_instance_path(char *buf, size_t size, const char *rundir,
		       const char *instance, const char *what)
{
	size_t n = 0;
	int len;

	if (!rundir)
		rundir = corsd_os_rundir();
	if (!instance || !instance[0])
		instance = "default";
	for (; instance[n]; n++) {
		char c = instance[n];

		if (n >= 32 ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return -CORSD_EINVAL;
	}
	len = snprintf(buf, size, "%s/%s.%s", rundir, instance, what);
	if (len < 0 || (size_t)len >= size)
		return -CORSD_EINVAL;
	return 0;
}

int
corsd_os_shm_create(const char *path, size_t size, mode_t mode, gid_t gid,
		    void **map)
{
	void *p;
	int fd;

	/* The caller holds the instance lock, so a file at this path is a
	 * dead daemon's: unlinking it leaves workers still mapping it
	 * with their old copy, and they notice the new inode.  O_EXCL and
	 * O_NOFOLLOW: whatever is there now is replaced, never followed. */
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return errno == EACCES ? -CORSD_EPERM : -CORSD_EIO;
	if ((gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0) ||
	    fchmod(fd, mode) != 0 || ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		unlink(path);
		return -CORSD_EPERM;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		unlink(path);
		return -CORSD_ENOMEM;
	}
	*map = p;
	return 0;
}

static void __attribute__((format(printf, 3, 4)))
say(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!why || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

/* Split @path into its directory (opened, O_DIRECTORY) and its last
 * component; -1 when it has no '/' or the directory cannot be opened. */
static int
open_parent(const char *path, const char **base)
{
	char dir[CORSD_SHM_NAME_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash || !slash[1])
		return -1;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir))
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	*base = slash + 1;
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* What a file of corsd's must be: of @type (S_IFREG, S_IFSOCK), owned
 * by @owner, none of @no_write set; 0 or -CORSD_EPERM with @why. */
static int
check_file(const struct stat *st, const char *path, mode_t type, uid_t owner,
	   mode_t no_write, char *why, size_t why_size)
{
	if ((st->st_mode & S_IFMT) != type) {
		say(why, why_size, "'%s' is not a %s", path,
		    type == S_IFSOCK ? "socket" : "regular file");
		return -CORSD_EPERM;
	}
	if (st->st_uid != owner) {
		say(why, why_size,
		    "'%s' is owned by uid %u, not corsd's uid %u", path,
		    (unsigned)st->st_uid, (unsigned)owner);
		return -CORSD_EPERM;
	}
	if (st->st_mode & no_write) {
		say(why, why_size, "'%s' is writable by %s (mode %04o)", path,
		    st->st_mode & S_IWOTH ? "others" : "its group",
		    (unsigned)(st->st_mode & 07777));
		return -CORSD_EPERM;
	}
	return 0;
}

/* The provenance rules of corsd_os_shm_open() for the directory of @dfd
 * and the file of @fd; 0 or -CORSD_EPERM with @why. */
static int
check_owned(int dfd, int fd, const char *path, uid_t owner, mode_t no_write,
	    char *why, size_t why_size)
{
	struct stat st;

	if (fstat(dfd, &st) != 0)
		return -CORSD_EPERM;
	if (st.st_uid != owner) {
		say(why, why_size,
		    "the directory of '%s' is owned by uid %u, not corsd's "
		    "uid %u",
		    path, (unsigned)st.st_uid, (unsigned)owner);
		return -CORSD_EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		say(why, why_size,
		    "the directory of '%s' is writable by %s (mode %04o)", path,
		    st.st_mode & S_IWOTH ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777));
		return -CORSD_EPERM;
	}
	if (fstat(fd, &st) != 0)
		return -CORSD_EPERM;
	return check_file(&st, path, S_IFREG, owner, no_write, why, why_size);
}

int
corsd_os_shm_open(const char *path, bool writable, uid_t owner, void **map,
		  size_t *size, uint64_t *ino, char *why, size_t why_size)
{
	const char *base;
	struct stat st;
	void *p;
	int dfd, fd, rc;

	dfd = open_parent(path, &base);
	if (dfd < 0) {
		say(why, why_size, "no directory '%s' (%s)", path,
		    strerror(errno));
		return errno == ENOENT ? -CORSD_EUNAVAIL : -CORSD_EPERM;
	}
	fd = openat(dfd, base,
		    (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? -CORSD_EUNAVAIL : -CORSD_EPERM;
		say(why, why_size, "cannot open '%s': %s", path,
		    errno == ELOOP ? "it is a symbolic link" : strerror(errno));
		close(dfd);
		return rc;
	}
	/* The slots are the group's to write, the cache corsd's alone. */
	rc = check_owned(dfd, fd, path, owner,
			 writable ? S_IWOTH : S_IWGRP | S_IWOTH, why, why_size);
	close(dfd);
	if (rc || fstat(fd, &st) != 0 || st.st_size <= 0) {
		if (!rc)
			say(why, why_size, "'%s' is empty", path);
		close(fd);
		return rc ? rc : -CORSD_EUNAVAIL;
	}
	p = mmap(NULL, (size_t)st.st_size,
		 PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -CORSD_ENOMEM;
	*map = p;
	*size = (size_t)st.st_size;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

#define SLOT_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

int
corsd_os_memfd_create(size_t size, int *fd, void **map)
{
	void *p;
	int m;

	m = memfd_create("corsd-slot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (m < 0)
		return errno == ENOMEM || errno == EMFILE || errno == ENFILE
			       ? -CORSD_ENOMEM
			       : -CORSD_EIO;
	if (ftruncate(m, (off_t)size) != 0 ||
	    fcntl(m, F_ADD_SEALS, SLOT_SEALS) != 0) {
		close(m);
		return -CORSD_EIO;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
	if (p == MAP_FAILED) {
		close(m);
		return -CORSD_ENOMEM;
	}
	*fd = m;
	*map = p;
	return 0;
}

int
corsd_os_memfd_map(int fd, size_t size, void **map, char *why, size_t why_size)
{
	struct stat st;
	void *p;
	int seals;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != (uint64_t)size) {
		say(why, why_size,
		    "the slot memory corsd sent is not a file of %zu bytes",
		    size);
		return -CORSD_EPERM;
	}
	/* Unsealed, someone holding it could shrink it under us. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & SLOT_SEALS) != SLOT_SEALS) {
		say(why, why_size,
		    "the slot memory corsd sent is not sealed (seals %#x)",
		    seals < 0 ? 0u : (unsigned)seals);
		return -CORSD_EPERM;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		say(why, why_size, "cannot map the slot memory: %s",
		    strerror(errno));
		return -CORSD_ENOMEM;
	}
	*map = p;
	return 0;
}

int
corsd_os_sock_timeout(int fd, unsigned ms)
{
	struct timeval tv = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_usec = (suseconds_t)(ms % 1000) * 1000,
	};

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		return -CORSD_EIO;
	return 0;
}

bool
corsd_os_still_connected(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return fd >= 0 && poll(&p, 1, 0) == 0;
}

int
corsd_os_unix_connect(const char *path, uid_t owner, unsigned timeout_ms,
		      int *fd, pid_t *peer, char *why, size_t why_size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct stat st;
	size_t n = strlen(path);
	int s;

	if (n >= sizeof(sa.sun_path)) {
		say(why, why_size, "socket path '%s' is too long", path);
		return -CORSD_EPERM;
	}
	memcpy(sa.sun_path, path, n);
	/* lstat: a symlink is not corsd's socket.  The directory was
	 * checked with the cache (corsd_os_shm_open()): only corsd's user
	 * can replace what is here between this look and the connect. */
	if (lstat(path, &st) != 0) {
		say(why, why_size, "cannot reach '%s': %s", path,
		    strerror(errno));
		return errno == ENOENT ? -CORSD_EUNAVAIL : -CORSD_EPERM;
	}
	if (check_file(&st, path, S_IFSOCK, owner, S_IWOTH, why, why_size))
		return -CORSD_EPERM;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		say(why, why_size, "socket: %s", strerror(errno));
		return -CORSD_EUNAVAIL;
	}
	/* AF_UNIX connect() waits for room in a full backlog for as long
	 * as SO_SNDTIMEO says. */
	if (corsd_os_sock_timeout(s, timeout_ms) != 0 ||
	    connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(s);
		say(why, why_size, "cannot connect to '%s': %s", path,
		    strerror(e));
		if (e == EAGAIN || e == EINPROGRESS)
			return -CORSD_ETIMEDOUT;
		return e == EACCES ? -CORSD_EPERM : -CORSD_EUNAVAIL;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    cred.uid != owner) {
		close(s);
		say(why, why_size,
		    "the process listening on '%s' is not corsd's uid %u", path,
		    (unsigned)owner);
		return -CORSD_EPERM;
	}
	*fd = s;
	*peer = cred.pid;
	return 0;
}

int
corsd_os_send_fd(int sock, const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	memset(&u, 0, sizeof(u));
	if (fd >= 0) {
		m.msg_control = u.space;
		m.msg_controllen = sizeof(u.space);
		u.h.cmsg_level = SOL_SOCKET;
		u.h.cmsg_type = SCM_RIGHTS;
		u.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&u.h), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -CORSD_EIO;
}

ssize_t
corsd_os_recv_fd(int sock, void *buf, size_t len, int *fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(4 * sizeof(int))];
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr m = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.space,
		.msg_controllen = sizeof(u.space),
	};
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	/* Keep the first descriptor; close whatever else came. */
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		size_t nfd;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int got;

			memcpy(&got, CMSG_DATA(h) + i * sizeof(int),
			       sizeof(int));
			if (*fd < 0)
				*fd = got;
			else
				close(got);
		}
	}
	return n;
}

uint64_t
corsd_os_shm_ino(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return 0;
	return (uint64_t)st.st_ino;
}

void
corsd_os_shm_unlink(const char *path)
{
	unlink(path);
}

pid_t
corsd_os_lock_pid(const char *path, uid_t owner)
{
	char buf[32];
	struct stat st;
	ssize_t n;
	long pid;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* The same rule as corsd's other files; the lock (0640) names the
	 * holder, so the group may not write it either. */
	if (fstat(fd, &st) != 0 ||
	    check_file(&st, path, S_IFREG, owner, S_IWGRP | S_IWOTH, NULL, 0)) {
		close(fd);
		return 0;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	return pid > 0 && pid <= INT32_MAX ? (pid_t)pid : 0;
}

uint64_t
corsd_os_pid_start(pid_t pid)
{
	char path[64], buf[1024];
	ssize_t n;
	char *p;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields are
	 * counted from the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return strtoull(p, NULL, 10);
}

bool
corsd_os_pid_alive(pid_t pid, uint64_t start)
{
	if (pid <= 0)
		return false;
	/* EPERM: it exists but belongs to someone else (a root daemon seen
	 * from a www-data worker). */
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return false;
	if (start) {
		uint64_t now = corsd_os_pid_start(pid);

		/* Unreadable /proc (hidepid) is not evidence of death. */
		if (now && now != start)
			return false;
	}
	return true;
}

int
corsd_os_group(const char *name, gid_t *gid)
{
	struct group gr, *res = NULL;
	char buf[4096], *end;
	unsigned long n;

	if (!name || !name[0])
		return -CORSD_EINVAL;
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) == 0 && res) {
		*gid = res->gr_gid;
		return 0;
	}
	errno = 0;
	n = strtoul(name, &end, 10);
	if (!*end && errno == 0 && n < UINT_MAX) {
		*gid = (gid_t)n;
		return 0;
	}
	return -CORSD_ENOENT;
}

uint64_t
corsd_os_random64(void)
{
	uint64_t v = 0;

	while (v == 0)
		if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
			v = corsd_os_now_ns() ^ ((uint64_t)getpid() << 32);
	return v;
}
