/*
 * watch.c - --watch: notice that the policy file changed and ask for a
 * reload.
 *
 * Layer: tools/corsd.  Rule: the watcher decides only *whether* to
 * reload; it files a request with the reload thread and never touches a
 * snapshot.
 *
 * Approach.  Files are rarely changed in place: editors write a new file
 * and rename it over the old one, configuration managers do the same, and
 * Kubernetes mounts a ConfigMap as
 *
 *	dir/policy.yaml -> ..data/policy.yaml
 *	dir/..data      -> ..2024_05_01_12_00_00.123456789
 *
 * and publishes a new version by writing a new timestamped directory,
 * renaming a fresh "..data" symlink over the old one, and deleting the old
 * directory.  A watch on the file itself would follow the old inode and
 * miss all of these, so corsd watches directories instead:
 *
 *   - the directory named by the policy path, for events on the file's
 *     name and, when the file is a relative symlink through a name in
 *     that directory ("..data/policy.yaml"), on that name too;
 *   - when the path is a symlink, the directory where the resolved file
 *     lives (the timestamped one), for events on the resolved name and
 *     on the directory itself (deleted or moved away).
 *
 * Mask: IN_CLOSE_WRITE (written in place and closed: never a half written
 * file), IN_MOVED_TO and IN_CREATE (renamed or linked into place),
 * IN_DELETE and IN_MOVED_FROM (gone: logged, the policy stays), IN_ATTRIB
 * (chmod, touch, link count), plus the directories' own IN_DELETE_SELF
 * and IN_MOVE_SELF.  A relevant event arms a 50 ms debounce, re-armed by
 * each further event but never beyond 1 s after the first, so a burst of
 * writes becomes one reload.  When it fires, the path is resolved again
 * (the symlink may point elsewhere now, and the second watch moves with
 * it) and the content's identity is taken with stat(2): device, inode,
 * mtime (ns) and size of the resolved file.  A reload is requested only
 * when that identity differs both from the last one seen and from the one
 * the snapshot in force was loaded from, so a chmod, a delete or a SIGHUP
 * that got there first costs nothing.  When the file is missing the
 * running policy stays; when a directory to watch is missing (the policy
 * path's, or a symlink target's), resolving is retried every second.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_int.h"
#include "os.h"
#include "daemon_int.h"
#include "watch_int.h"

#define WATCH_MASK                                                          \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB | \
	 IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define GONE_MASK	(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)
#define DEBOUNCE_MS	50u
#define DEBOUNCE_CAP_MS 1000u
#define REWATCH_MS	1000u

/* Split absolute @path at its last '/'.  Return false if it will not fit
 * or has no name. */
static bool
split_path(const char *path, char *dir, char *name)
{
	const char *slash = strrchr(path, '/');
	size_t dlen;

	if (!slash || !slash[1] || strlen(slash + 1) > NAME_MAX)
		return false;
	dlen = slash == path ? 1 : (size_t)(slash - path);
	if (dlen >= PATH_MAX)
		return false;
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	strcpy(name, slash + 1);
	return true;
}

static void
drop_tgt_watch(struct corsd_watcher *w)
{
	if (w->tgt_wd >= 0 && w->tgt_wd != w->dir_wd)
		inotify_rm_watch(w->fd, w->tgt_wd);
	w->tgt_wd = -1;
	w->tgt_dir[0] = '\0';
	w->tgt_name[0] = '\0';
}

/*
 * (Re)establish the watches for what the policy path names now.
 * Return: false when the policy path's own directory cannot be watched.
 */
static bool
resolve(struct corsd_watcher *w)
{
	char link[PATH_MAX], real[PATH_MAX], tdir[PATH_MAX];
	char tname[NAME_MAX + 1];
	const char *path = w->d->policy_path;
	struct stat st;
	ssize_t n;
	size_t k;
	int wd;

	if (w->dir_wd < 0) {
		w->dir_wd = inotify_add_watch(w->fd, w->dir, WATCH_MASK);
		if (w->dir_wd < 0) {
			if (!w->dir_lost_logged)
				corsd_log(LOG_WARNING,
					  "watch: cannot watch '%s': %s",
					  w->dir, strerror(errno));
			w->dir_lost_logged = true;
			return false;
		}
		if (w->dir_lost_logged)
			corsd_log(LOG_NOTICE, "watch: watching '%s' again",
				  w->dir);
		w->dir_lost_logged = false;
	}

	w->via[0] = '\0';
	w->dangling = false;
	if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode)) {
		drop_tgt_watch(w);
		return true;
	}
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0 && link[0] != '/') {
		link[n] = '\0';
		k = strcspn(link, "/");
		if (k <= NAME_MAX && strcmp(link, ".") && strcmp(link, "..")) {
			memcpy(w->via, link, k);
			w->via[k] = '\0';
		}
	}
	if (!realpath(path, real) || !split_path(real, tdir, tname)) {
		drop_tgt_watch(w);
		w->dangling = true;
		return true;
	}
	if (w->tgt_wd < 0 || strcmp(tdir, w->tgt_dir) != 0) {
		/* Same directory as dir_wd (same inode): the kernel hands
		 * back that watch, which is then not ours to remove. */
		wd = inotify_add_watch(w->fd, tdir, WATCH_MASK);
		if (wd < 0)
			corsd_log(LOG_WARNING, "watch: cannot watch '%s': %s",
				  tdir, strerror(errno));
		if (w->tgt_wd >= 0 && w->tgt_wd != w->dir_wd && w->tgt_wd != wd)
			inotify_rm_watch(w->fd, w->tgt_wd);
		w->tgt_wd = wd;
		strcpy(w->tgt_dir, tdir);
	}
	strcpy(w->tgt_name, tname);
	w->dangling = w->tgt_wd < 0;
	return true;
}

/* The file may have new content: ask for a reload if it has. */
static void
check(struct corsd_watcher *w)
{
	struct corsd_file_id id, loaded;

	if (!corsd_file_id_get(w->d->policy_path, &id)) {
		if (w->seen.ino)
			corsd_log(LOG_WARNING,
				  "watch: %s is missing; keeping generation "
				  "%llu",
				  w->d->policy_name,
				  (unsigned long long)corsd_reload_generation(
					  w->d));
		w->seen = id;
		return;
	}
	if (corsd_file_id_equal(&id, &w->seen))
		return;
	w->seen = id;
	corsd_reload_loaded_id(w->d, &loaded);
	if (corsd_file_id_equal(&id, &loaded))
		return;
	corsd_log(LOG_INFO, "watch: %s changed; reloading", w->d->policy_name);
	corsd_reload_request(w->d);
}

static bool
name_is(const struct inotify_event *ev, const char *name)
{
	return name[0] && ev->len > 0 && strcmp(ev->name, name) == 0;
}

/* Does @ev say anything about the policy file?  Keeps the watch
 * descriptors in step with directories that went away. */
static bool
relevant(struct corsd_watcher *w, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW)
		return true;
	if (ev->wd < 0)
		return false;
	if (ev->mask & GONE_MASK) {
		if (ev->wd != w->dir_wd && ev->wd != w->tgt_wd)
			return false; /* a watch we removed ourselves */
		/* A directory moved away keeps its watch; removing it
		 * lets resolve() watch whatever the path names now. */
		if (ev->mask & IN_MOVE_SELF)
			inotify_rm_watch(w->fd, ev->wd);
		if (ev->wd == w->dir_wd) {
			if (!w->dir_lost_logged)
				corsd_log(LOG_WARNING,
					  "watch: '%s' went away; watching "
					  "for it to come back",
					  w->dir);
			w->dir_lost_logged = true;
			w->dir_wd = -1;
		}
		if (ev->wd == w->tgt_wd)
			w->tgt_wd = -1;
		return true;
	}
	if (ev->wd == w->dir_wd &&
	    (name_is(ev, w->name) || name_is(ev, w->via)))
		return true;
	return ev->wd == w->tgt_wd && name_is(ev, w->tgt_name);
}

/* Drain the inotify queue.  Return: whether any event was relevant. */
static bool
drain(struct corsd_watcher *w)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	bool any = false;
	ssize_t n;
	size_t off, step;

	for (;;) {
		n = read(w->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return any;
		for (off = 0; off + sizeof(*ev) <= (size_t)n; off += step) {
			ev = (const struct inotify_event *)(buf + off);
			step = sizeof(*ev) + ev->len;
			if (step > (size_t)n - off)
				break;
			if (relevant(w, ev))
				any = true;
		}
	}
}

static void *
watch_main(void *arg)
{
	struct corsd_watcher *w = arg;
	struct pollfd pfd[2] = {
		{.fd = w->fd, .events = POLLIN},
		{.fd = w->d->stop_fd, .events = POLLIN},
	};
	uint64_t now, first = 0, due = 0, next_rewatch = 0;
	bool pending = false;
	int timeout;

	for (;;) {
		now = corsd_os_now_ms();
		if (pending)
			timeout = due > now ? (int)(due - now) : 0;
		else
			timeout = REWATCH_MS;
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		now = corsd_os_now_ms();
		if ((pfd[0].revents & POLLIN) && drain(w)) {
			if (!pending)
				first = now;
			pending = true;
			due = now + DEBOUNCE_MS;
			if (due > first + DEBOUNCE_CAP_MS)
				due = first + DEBOUNCE_CAP_MS;
		}
		if (pending && now >= due) {
			pending = false;
			resolve(w);
			check(w);
		} else if ((w->dir_wd < 0 || w->dangling) &&
			   now >= next_rewatch) {
			next_rewatch = now + REWATCH_MS;
			if (resolve(w))
				check(w);
		}
	}
	return NULL;
}

int
corsd_watch_start(struct corsd_daemon *d)
{
	struct corsd_watcher *w = &d->watcher;
	int rc;

	w->d = d;
	w->fd = w->dir_wd = w->tgt_wd = -1;
	if (!split_path(d->policy_path, w->dir, w->name)) {
		corsd_log(LOG_ERR, "--watch: cannot watch '%s': bad path",
			  d->policy_path);
		return -1;
	}
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		corsd_log(LOG_ERR, "--watch: inotify: %s", strerror(errno));
		return -1;
	}
	if (!resolve(w)) {
		corsd_log(LOG_ERR, "--watch: cannot watch '%s'", w->dir);
		close(w->fd);
		w->fd = -1;
		return -1;
	}
	/* A change between the first load and now is a change too. */
	corsd_reload_loaded_id(d, &w->seen);
	check(w);

	rc = pthread_create(&w->thread, NULL, watch_main, w);
	if (rc != 0) {
		corsd_log(LOG_ERR, "cannot start the watch thread: %s",
			  strerror(rc));
		close(w->fd);
		w->fd = -1;
		return -1;
	}
	pthread_setname_np(w->thread, "corsd-watch");
	w->running = true;
	return 0;
}

void
corsd_watch_join(struct corsd_daemon *d)
{
	struct corsd_watcher *w = &d->watcher;

	if (!w->d) /* never started: no --watch */
		return;
	if (w->running) {
		pthread_join(w->thread, NULL);
		w->running = false;
	}
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
}
