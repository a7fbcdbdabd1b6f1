/*
 * os.c - Linux specifics behind ipc/os.h: futexes, POSIX shared memory,
 * permissions, clocks, process liveness, randomness.
 *
 * Layer: ipc.  Linked into both the client library (a worker) and the
 * daemon, so nothing here allocates after setup or logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

int
corsd_os_shm_name(char *buf, size_t size, const char *instance,
		  const char *what)
{
	size_t n = 0;
	int len;

	if (!instance || !instance[0])
		instance = "default";
	for (; instance[n]; n++) {
		char c = instance[n];

		if (n >= 32 ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return -CORSD_EINVAL;
	}
	len = snprintf(buf, size, "/corsd.%s.%s", instance, what);
	if (len < 0 || (size_t)len >= size)
		return -CORSD_EINVAL;
	return 0;
}

int
corsd_os_shm_create(const char *name, size_t size, mode_t mode, gid_t gid,
		    void **map)
{
	void *p;
	int fd;

	/* The caller holds the instance lock, so a segment of this name is
	 * a dead daemon's: unlinking it leaves workers still mapping it
	 * with their old copy, and they notice the new inode. */
	shm_unlink(name);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EACCES ? -CORSD_EPERM : -CORSD_EIO;
	if ((gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0) ||
	    fchmod(fd, mode) != 0 || ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		shm_unlink(name);
		return -CORSD_EPERM;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		shm_unlink(name);
		return -CORSD_ENOMEM;
	}
	*map = p;
	return 0;
}

int
corsd_os_shm_open(const char *name, bool writable, void **map, size_t *size,
		  uint64_t *ino)
{
	struct stat st;
	void *p;
	int fd;

	fd = shm_open(name, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
	if (fd < 0)
		return errno == ENOENT	 ? -CORSD_EUNAVAIL
		       : errno == EACCES ? -CORSD_EPERM
					 : -CORSD_EIO;
	if (fstat(fd, &st) != 0 || st.st_size <= 0) {
		close(fd);
		return -CORSD_EUNAVAIL;
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

uint64_t
corsd_os_shm_ino(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm%s", name);
	if (stat(path, &st) != 0)
		return 0;
	return (uint64_t)st.st_ino;
}

void
corsd_os_shm_unlink(const char *name)
{
	shm_unlink(name);
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
