/*
 * reload.c - the snapshot in force: RCU publish and retire, the reload
 * thread, and the decide callback of the serving threads.
 *
 * Layer: tools/corsd; the only place where RCU (liburcu, memb flavour,
 * linked dynamically) meets the engine.  Rules: readers hold
 * urcu_memb_read_lock() from rcu_dereference(current) until they are done
 * with the snapshot; only the reload thread writes `current`, and frees
 * the snapshot it replaced after urcu_memb_synchronize_rcu().  Reloads
 * run one at a time, on that thread, never on a serving thread and never
 * in a signal handler: SIGHUP, the control socket and the watcher only
 * file a request.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <urcu/urcu-memb.h>
#include <urcu/pointer.h>

#include "corsd_engine.h"
#include "daemon_int.h"
#include "log_int.h"
#include "os.h"
#include "reload_int.h"

/*
 * ThreadSanitizer cannot see liburcu's barriers (the library is not
 * instrumented), so in TSan builds the two edges RCU provides are
 * spelled out for it:
 *   T1 tsan_release(&current) before publishing a snapshot pairs with
 *      T2 tsan_acquire(&current) after a reader's rcu_dereference():
 *      the snapshot's contents were written before readers see them.
 *   T3 tsan_release(&rcu_grace) at the end of each read-side section
 *      pairs with T4 tsan_acquire(&rcu_grace) after synchronize_rcu():
 *      every read of the old snapshot happened before it is freed.
 */
#if defined(__SANITIZE_THREAD__)
#define CORSD_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CORSD_TSAN 1
#endif
#endif

#ifdef CORSD_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define tsan_acquire(addr) __tsan_acquire(addr)
#define tsan_release(addr) __tsan_release(addr)
static char rcu_grace;
#else
#define tsan_acquire(addr) ((void)0)
#define tsan_release(addr) ((void)0)
#endif

#define RELOAD_DIAG_LOG_MAX 20

bool
corsd_file_id_get(const char *path, struct corsd_file_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (stat(path, &st) != 0)
		return false;
	id->dev = (uint64_t)st.st_dev;
	id->ino = (uint64_t)st.st_ino;
	id->mtime_sec = (int64_t)st.st_mtim.tv_sec;
	id->mtime_nsec = (int64_t)st.st_mtim.tv_nsec;
	id->size = (int64_t)st.st_size;
	return true;
}

bool
corsd_file_id_equal(const struct corsd_file_id *a,
		    const struct corsd_file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	       a->size == b->size;
}

static void
notify_done(struct corsd_reloader *r)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is full of unread wake-ups; one is enough. */
	if (write(r->done_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		corsd_log(LOG_ERR, "reload: eventfd: %s", strerror(errno));
}

/* Lines of @diags at @sev, at most @max of them, to the log. */
static void
log_diags(const struct corsd_diags *diags, enum corsd_severity sev, size_t max)
{
	char line[CORSD_DIAG_MESSAGE_MAX + PATH_MAX + 64];
	size_t i, shown = 0, total = 0;

	for (i = 0; i < diags->n; i++) {
		if (diags->v[i].severity != sev)
			continue;
		total++;
		if (shown >= max)
			continue;
		corsd_diags_format(diags, i, line, sizeof(line));
		corsd_log(sev == CORSD_SEV_ERROR ? LOG_ERR : LOG_WARNING, "%s",
			  line);
		shown++;
	}
	if (total > shown)
		corsd_log(LOG_ERR, "... and %zu more %s", total - shown,
			  sev == CORSD_SEV_ERROR ? "errors" : "warnings");
}

/* The one-line reason a load failed: the first error, and how many. */
static void
describe_failure(const struct corsd_daemon *d, const struct corsd_diags *diags,
		 int err, const char *what, char *buf, size_t size)
{
	size_t i;
	int n;

	for (i = 0; i < diags->n; i++)
		if (diags->v[i].severity == CORSD_SEV_ERROR)
			break;
	if (i == diags->n) {
		snprintf(buf, size, "cannot %s '%s': %s", what, d->policy_name,
			 corsd_strerror(err));
		return;
	}
	n = corsd_diags_format(diags, i, buf, size);
	if (n >= 0 && (size_t)n < size && diags->errors > 1)
		snprintf(buf + n, size - (size_t)n, " (1 of %u errors)",
			 diags->errors);
}

/*
 * Load and compile the policy file as @generation.  Return the snapshot,
 * or NULL with the reason in @why; diagnostics are logged (all of them
 * when @all, else a bounded number).
 */
static struct corsd_snapshot *
load(const struct corsd_daemon *d, uint64_t generation, bool all, char *why,
     size_t why_size, unsigned *nerrors)
{
	struct corsd_policy_set *set;
	struct corsd_snapshot *snap;
	struct corsd_diags diags;
	size_t max = all ? SIZE_MAX : RELOAD_DIAG_LOG_MAX;
	int err = 0;

	corsd_diags_init(&diags);
	set = corsd_policy_set_load_file(d->policy_path, &diags, &err);
	log_diags(&diags, CORSD_SEV_ERROR, max);
	log_diags(&diags, CORSD_SEV_WARNING, max);
	*nerrors = diags.errors;
	if (!set) {
		describe_failure(d, &diags, err ? err : -CORSD_EPOLICY, "load",
				 why, why_size);
		corsd_diags_release(&diags);
		return NULL;
	}
	corsd_diags_release(&diags);
	snap = corsd_snapshot_compile(set, generation, &err);
	corsd_policy_set_free(set);
	if (!snap)
		snprintf(why, why_size, "cannot compile '%s': %s",
			 d->policy_name, corsd_strerror(err));
	return snap;
}

int
corsd_reload_init(struct corsd_daemon *d)
{
	struct corsd_reloader *r = &d->reloader;
	struct corsd_snapshot *snap;
	char why[CORSD_RELOAD_ERROR_MAX];
	unsigned nerrors = 0;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->kick, NULL);
	r->done_fd = -1;
	corsd_file_id_get(d->policy_path, &r->loaded_id);
	snap = load(d, 1, true, why, sizeof(why), &nerrors);
	if (!snap) {
		/* Every diagnostic is out already: just the verdict. */
		if (nerrors)
			corsd_log(LOG_ERR, "%s: %u %s; not starting",
				  d->policy_name, nerrors,
				  nerrors == 1 ? "error" : "errors");
		else
			corsd_log(LOG_ERR, "%s; not starting", why);
		return -1;
	}
	/* No reader exists yet: starting the threads publishes it. */
	r->current = snap;
	r->stats.generation = 1;
	r->stats.policies = corsd_snapshot_policy_count(snap);
	r->last.ok = true;
	r->last.generation = 1;
	return 0;
}

/*
 * One reload.  Reload thread only, no lock held: nothing else writes
 * `current` or the generation, so reading them here needs no lock.
 */
static void
reload_once(struct corsd_daemon *d, struct corsd_reload_result *res,
	    size_t *policies, struct corsd_file_id *id)
{
	struct corsd_reloader *r = &d->reloader;
	uint64_t generation = corsd_snapshot_generation(r->current) + 1;
	struct corsd_snapshot *snap, *old;
	unsigned nerrors;

	memset(res, 0, sizeof(*res));
	corsd_file_id_get(d->policy_path, id);
	snap = load(d, generation, false, res->error, sizeof(res->error),
		    &nerrors);
	if (!snap) {
		res->generation = generation - 1;
		corsd_log(LOG_ERR,
			  "reload of %s failed: %s; keeping generation %llu",
			  d->policy_name, res->error,
			  (unsigned long long)res->generation);
		return;
	}

	tsan_release(&r->current); /* T1, pairs with T2 */
	old = rcu_xchg_pointer(&r->current, snap);
	pthread_mutex_lock(&d->server_lock);
	corsd_server_publish_generation(d->server, generation);
	pthread_mutex_unlock(&d->server_lock);
	/* After this, no reader can still hold old. */
	urcu_memb_synchronize_rcu();
	tsan_acquire(&rcu_grace); /* T4, pairs with T3 */
	corsd_snapshot_free(old);

	res->ok = true;
	res->generation = generation;
	*policies = corsd_snapshot_policy_count(snap);
	corsd_log(LOG_INFO, "reloaded %s: generation %llu, %zu %s",
		  d->policy_name, (unsigned long long)generation, *policies,
		  *policies == 1 ? "policy" : "policies");
}

static void *
reload_main(void *arg)
{
	struct corsd_daemon *d = arg;
	struct corsd_reloader *r = &d->reloader;
	struct corsd_reload_result res;
	struct corsd_file_id id;
	size_t policies = 0;
	uint64_t target;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->stop && r->requested == r->served)
			pthread_cond_wait(&r->kick, &r->lock);
		if (r->stop)
			break;
		target = r->requested;
		pthread_mutex_unlock(&r->lock);

		reload_once(d, &res, &policies, &id);

		pthread_mutex_lock(&r->lock);
		r->stats.last_time = (int64_t)time(NULL);
		if (res.ok) {
			r->stats.reloads++;
			r->stats.generation = res.generation;
			r->stats.policies = policies;
			r->stats.has_error = false;
			r->stats.last_error[0] = '\0';
			r->loaded_id = id;
		} else {
			r->stats.failures++;
			r->stats.has_error = true;
			r->stats.last_error_time = r->stats.last_time;
			memcpy(r->stats.last_error, res.error,
			       sizeof(r->stats.last_error));
		}
		r->last = res;
		r->served = target;
		notify_done(r);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int
corsd_reload_start(struct corsd_daemon *d)
{
	struct corsd_reloader *r = &d->reloader;
	int rc;

	r->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->done_fd < 0) {
		corsd_log(LOG_ERR, "reload: eventfd: %s", strerror(errno));
		return -1;
	}
	rc = pthread_create(&r->thread, NULL, reload_main, d);
	if (rc != 0) {
		corsd_log(LOG_ERR, "cannot start the reload thread: %s",
			  strerror(rc));
		return -1;
	}
	pthread_setname_np(r->thread, "corsd-reload");
	r->running = true;
	return 0;
}

void
corsd_reload_stop(struct corsd_daemon *d)
{
	struct corsd_reloader *r = &d->reloader;

	pthread_mutex_lock(&d->reloader.lock);
	d->reloader.stop = true;
	pthread_cond_broadcast(&d->reloader.kick);
	pthread_mutex_unlock(&d->reloader.lock);
	if (r->running)
		pthread_join(r->thread, NULL);
	r->running = false;
	/* Whoever waits for an outcome looks again and sees the stop. */
	if (r->done_fd >= 0)
		notify_done(r);
}

void
corsd_reload_release(struct corsd_daemon *d)
{
	struct corsd_reloader *r = &d->reloader;

	/* Called with every reader joined: no grace period to wait for. */
	corsd_snapshot_free(r->current);
	r->current = NULL;
	if (r->done_fd >= 0)
		close(r->done_fd);
	r->done_fd = -1;
	pthread_cond_destroy(&r->kick);
	pthread_mutex_destroy(&r->lock);
}

uint64_t
corsd_reload_request(struct corsd_daemon *d)
{
	uint64_t ticket;

	pthread_mutex_lock(&d->reloader.lock);
	ticket = ++d->reloader.requested;
	pthread_cond_signal(&d->reloader.kick);
	pthread_mutex_unlock(&d->reloader.lock);
	return ticket;
}

int
corsd_reload_result(struct corsd_daemon *d, uint64_t ticket,
		    struct corsd_reload_result *res)
{
	int rc = -CORSD_EAGAIN;

	pthread_mutex_lock(&d->reloader.lock);
	if (d->reloader.served >= ticket) {
		*res = d->reloader.last;
		rc = 0;
	} else if (d->reloader.stop) {
		rc = -CORSD_EUNAVAIL;
	}
	pthread_mutex_unlock(&d->reloader.lock);
	return rc;
}

int
corsd_reload_done_fd(struct corsd_daemon *d)
{
	return d->reloader.done_fd;
}

void
corsd_reload_get_stats(struct corsd_daemon *d, struct corsd_reload_stats *out)
{
	pthread_mutex_lock(&d->reloader.lock);
	*out = d->reloader.stats;
	pthread_mutex_unlock(&d->reloader.lock);
}

uint64_t
corsd_reload_generation(struct corsd_daemon *d)
{
	uint64_t generation;

	pthread_mutex_lock(&d->reloader.lock);
	generation = d->reloader.stats.generation;
	pthread_mutex_unlock(&d->reloader.lock);
	return generation;
}

void
corsd_reload_loaded_id(struct corsd_daemon *d, struct corsd_file_id *id)
{
	pthread_mutex_lock(&d->reloader.lock);
	*id = d->reloader.loaded_id;
	pthread_mutex_unlock(&d->reloader.lock);
}

uint64_t
corsd_reload_decide(void *ctx, const struct corsd_request *req,
		    struct corsd_answer *ans)
{
	struct corsd_reloader *r = &((struct corsd_daemon *)ctx)->reloader;
	const struct corsd_snapshot *snap;
	uint64_t generation = 0;

	urcu_memb_read_lock();
	snap = rcu_dereference(r->current);
	tsan_acquire(&r->current); /* T2, pairs with T1 */
	if (corsd_decide(snap, req, ans) == 0)
		generation = corsd_snapshot_generation(snap);
	tsan_release(&rcu_grace); /* T3, pairs with T4 */
	urcu_memb_read_unlock();
	return generation;
}
