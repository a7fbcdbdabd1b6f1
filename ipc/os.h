/*
 * os.h - the operating-system specifics of corsd's IPC: futexes, shared
 * memory, permissions, clocks and process liveness.
 *
 * Layer: ipc, internal; Linux.  Everything else in ipc/ is portable C11
 * over these calls.
 */
#ifndef CORSD_OS_H
#define CORSD_OS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Sleep while *addr == expected, at most timeout_ns (< 0: no limit).
 * Shared (not process-private) futex: addr may be in shared memory.
 * Return: 0 when woken or the value differed, -CORSD_ETIMEDOUT. */
int corsd_os_futex_wait(_Atomic uint32_t *addr, uint32_t expected,
			int64_t timeout_ns);
/* Wake up to n sleepers on addr. */
void corsd_os_futex_wake(_Atomic uint32_t *addr, int n);

/* Let another runnable thread on this CPU run (sched_yield(2)); returns at
 * once when there is none. */
void corsd_os_yield(void);

/* CLOCK_MONOTONIC in ns, and in ms (coarse clock: a few ns per call). */
uint64_t corsd_os_now_ns(void);
uint64_t corsd_os_now_ms(void);

/*
 * A fence.  ThreadSanitizer does not model fences, and GCC refuses
 * atomic_thread_fence() under -fsanitize=thread; the TSan build (x86
 * only) gets a seq_cst read-modify-write on a private word instead, which
 * is a full barrier there.  Every other build gets the real fence.
 */
#if defined(__SANITIZE_THREAD__)
static inline void
corsd_os_tsan_fence(void)
{
	static _Atomic unsigned word;

	atomic_fetch_add_explicit(&word, 0, memory_order_seq_cst);
}
#define CORSD_FENCE(order) corsd_os_tsan_fence()
#else
#define CORSD_FENCE(order) atomic_thread_fence(order)
#endif

static inline void
corsd_os_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/*
 * An instance's files live in its runtime directory: the lock, the
 * control socket and the two shared-memory segments, as
 * "<rundir>/<instance>.<what>".  The directory is corsd's own (created
 * 0750 by corsd, never writable by the group or others), so nobody but
 * corsd's user can put a file there: that is what makes a segment found
 * there corsd's (DESIGN.md section 5, SECURITY.md).
 */
#define CORSD_RUNDIR_DEFAULT "/run/corsd"
/* Room for "<rundir>/<instance>.<what>": the socket path bounds the
 * rundir to ~100 bytes, the instance name to 32. */
#define CORSD_SHM_NAME_MAX 256

/* The runtime directory: $CORSD_RUNDIR, else CORSD_RUNDIR_DEFAULT. */
const char *corsd_os_rundir(void);

/* "<rundir>/<instance>.<what>" into buf (@rundir NULL: corsd_os_rundir());
 * -CORSD_EINVAL for a bad instance name (1-32 bytes of [A-Za-z0-9_-],
 * NULL or "" meaning "default") or a path that does not fit. */
int corsd_os_instance_path(char *buf, size_t size, const char *rundir,
			   const char *instance, const char *what);

/*
 * Create a fresh segment file at @path (replacing a stale one: the
 * caller holds the instance lock), with @mode and, when gid !=
 * (gid_t)-1, that group; sized and mapped read-write.  The file mode is
 * set with fchmod, so the umask cannot widen or narrow it.
 */
int corsd_os_shm_create(const char *path, size_t size, mode_t mode, gid_t gid,
			void **map);

/*
 * Map the segment at @path, PROT_READ only unless @writable, after
 * checking that it is what corsd's user made: its directory and the file
 * owned by @owner and not writable by others (nor the directory by the
 * group), a regular file reached without a symlink, and for a read-only
 * segment not writable by the group either.  Returns its size and inode
 * (to notice a new corsd behind the same path).
 * Return: 0; -CORSD_EUNAVAIL when there is no such file (corsd is not
 * running); -CORSD_EPERM when a check failed, with what was wrong in
 * @why (which may be NULL); -CORSD_EIO, -CORSD_ENOMEM.
 */
int corsd_os_shm_open(const char *path, bool writable, uid_t owner, void **map,
		      size_t *size, uint64_t *ino, char *why, size_t why_size);
/*
 * A worker's slot memory, corsd's side: a new memfd of @size bytes
 * (MFD_CLOEXEC), sealed against shrinking and growing and then against
 * any further seal, so that no holder of the descriptor can make
 * corsd's mapping fault; mapped read-write.  Return: 0 with *@fd and
 * *@map; -CORSD_ENOMEM, -CORSD_EIO.
 */
int corsd_os_memfd_create(size_t size, int *fd, void **map);
/*
 * The worker's side: map @fd read-write after checking that it is what
 * corsd_os_memfd_create() makes: a regular file of exactly @size bytes
 * carrying those seals.  @fd stays the caller's to close.
 * Return: 0; -CORSD_EPERM with what was wrong in @why; -CORSD_ENOMEM.
 */
int corsd_os_memfd_map(int fd, size_t size, void **map, char *why,
		       size_t why_size);

/*
 * Connect to the AF_UNIX stream socket at @path after checking that it
 * is corsd's: a socket (no symlink) owned by @owner and not writable by
 * others, and that the process listening on it runs as @owner
 * (SO_PEERCRED; its pid into *@peer).  Every send and receive on the
 * socket, the connect included, waits at most @timeout_ms.
 * Return: 0 with *@fd; -CORSD_EUNAVAIL when nobody listens there;
 * -CORSD_EPERM when a check failed, with @why; -CORSD_ETIMEDOUT.
 */
int corsd_os_unix_connect(const char *path, uid_t owner, unsigned timeout_ms,
			  int *fd, pid_t *peer, char *why, size_t why_size);
/* Make every send and receive on socket @fd wait at most @ms (>= 1). */
int corsd_os_sock_timeout(int fd, unsigned ms);
/* Is the stream socket @fd still connected, with nothing to read (the
 * peer sends nothing while all is well)?  Never waits. */
bool corsd_os_still_connected(int fd);
/* Send @len bytes with @fd as SCM_RIGHTS (@fd < 0: none), never
 * blocking.  Return: 0 when all went, else -CORSD_EIO. */
int corsd_os_send_fd(int sock, const void *buf, size_t len, int fd);
/* Receive at most @len bytes and at most one descriptor (MSG_CMSG_CLOEXEC;
 * any other descriptor that came along is closed): *@fd is -1 when none
 * came.  Return: the bytes received (0: the peer closed), or -1. */
ssize_t corsd_os_recv_fd(int sock, void *buf, size_t len, int *fd);

/* Inode of the file now at @path; 0 when there is none. */
uint64_t corsd_os_shm_ino(const char *path);
void corsd_os_shm_unlink(const char *path);

/* The pid written in the instance lock file at @path (owned by @owner,
 * no symlink), or 0 when there is none or the file is not @owner's. */
pid_t corsd_os_lock_pid(const char *path, uid_t owner);

/* Start time of @pid (field 22 of /proc/pid/stat), 0 if it has none. */
uint64_t corsd_os_pid_start(pid_t pid);
/* Is @pid alive and, when start != 0, the same process as before? */
bool corsd_os_pid_alive(pid_t pid, uint64_t start);

/* A group id by name or number; -CORSD_ENOENT when there is none. */
int corsd_os_group(const char *name, gid_t *gid);

/* 64 random bits from getrandom(2), never 0. */
uint64_t corsd_os_random64(void);

#endif /* CORSD_OS_H */
