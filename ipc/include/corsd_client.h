/*
 * corsd_client.h - ask a running corsd for CORS decisions.
 *
 * Layer: ipc, public; the only header a web-server worker needs.  The
 * library it names (libcorsd_client.a / libcorsd_client.so) depends on
 * neither the engine nor liburcu, libyaml or PCRE2, and exports only
 * corsd_* symbols.
 *
 * A decision is looked up first in the shared decision cache (mapped
 * read-only: written by corsd alone), then asked of corsd through the
 * handle's own request slot: memory corsd made for this handle alone,
 * which no other worker can map.  The answer is copied into a caller-owned
 * struct corsd_answer; nothing is allocated after corsd_client_open().
 *
 * Thread safety: one handle is one request slot (and, while attached,
 * one descriptor: its connection to corsd's registration socket).  A handle
 * must not be used by two threads at once; use one handle per thread (an nginx
 * worker is single-threaded and needs one).  Handles are not inherited across
 * fork(): open them in the child.
 */
#ifndef CORSD_CLIENT_H
#define CORSD_CLIENT_H

#include <stdint.h>

#include "corsd_err.h"
#include "corsd_types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct corsd_client;

/* The bounds of a handle's timeout, in milliseconds: every caller (the
 * web-server modules' directives, corsctl's --timeout) checks these. */
#define CORSD_CLIENT_TIMEOUT_MIN_MS 1
#define CORSD_CLIENT_TIMEOUT_MAX_MS 60000

/**
 * corsd_client_open() - attach to a corsd instance and register for a
 * slot of its own.
 * @instance: the instance name given to corsd (--instance); NULL or ""
 *            means "default".  1-32 bytes of [A-Za-z0-9_-].
 * @timeout_ms: how long corsd_client_decide() waits for corsd, at most;
 *            CORSD_CLIENT_TIMEOUT_MIN_MS to CORSD_CLIENT_TIMEOUT_MAX_MS.
 * @err: out: 0, -CORSD_EINVAL, -CORSD_ENOMEM.
 *
 * Opening succeeds even when corsd is not running: the handle answers
 * CORSD_VERDICT_UNAVAILABLE until corsd is there, and attaches (and
 * re-attaches after a corsd restart) by itself.
 *
 * Where and whose: the instance's segments are looked for in corsd's
 * runtime directory, $CORSD_RUNDIR or else /run/corsd, and are used only
 * when they are corsd's: the directory and the files owned by corsd's
 * uid ($CORSD_DAEMON_UID, a number; else 0, root), none writable by
 * others (the directory and the cache not by the group either), no
 * symlink, and made by the live process that holds the instance lock;
 * the registration socket <rundir>/<instance>.workers likewise corsd's
 * uid's, and listened on by that process.
 * Anything else is treated as corsd not running; corsd_client_why()
 * says what was wrong.  The environment is read here, once.
 *
 * Return: a handle, or NULL with @err set (-CORSD_EINVAL also for a
 * $CORSD_DAEMON_UID that is not a number).
 */
CORSD_API struct corsd_client *corsd_client_open(const char *instance,
						 unsigned timeout_ms, int *err);

/**
 * corsd_client_decide() - decide one request.
 * @c: a handle; not used by another thread during the call.
 * @req: the request (as for corsd_decide()); strings longer than corsd's
 *       bounds are cut to one byte past the bound, which decides exactly
 *       as the whole value would (denied).
 * @ans: caller-owned; filled in.
 *
 * Never blocks longer than the handle's timeout.  When corsd does not
 * answer in time, is not running, or is restarting, @ans gets verdict
 * CORSD_VERDICT_UNAVAILABLE, reason CORSD_REASON_UNAVAILABLE, no
 * headers and CORSD_ANSWER_PREFLIGHT when the request is a preflight, and
 * the call returns -CORSD_EUNAVAIL.  A handle notices a dead or restarted
 * corsd within 50 ms, and from then on answers from neither its old
 * cache nor its old slot.
 *
 * A hung corsd (stopped, starved of CPU, deadlocked) costs one timeout,
 * not one per request: each handle has a breaker.  It opens when a
 * request times out, or when corsd's clock tick (published every 100 ms)
 * is more than 400 ms old and corsd has not answered since (nor in the
 * last 400 ms).  While it is open, a request the cache cannot answer gets
 * the unavailable answer above at once, without asking corsd (no wait,
 * no system call a cache hit does not make); requests the cache answers
 * are answered as usual, from the policy in force (the breaker only ever
 * withholds an answer, never grants one).  After a
 * back-off of 100 ms one request asks corsd again, waiting at most the
 * timeout: an answer closes the breaker, another timeout keeps it open
 * and doubles the back-off, up to 1600 ms.  Attaching to a new corsd
 * closes it.  corsd_client_why() says why it is open;
 * corsd_client_stats() counts it.
 *
 * Return: 0 with @ans filled in; -CORSD_EUNAVAIL as above; -CORSD_EINVAL
 * for NULL arguments or a request corsd refused as malformed.
 */
CORSD_API int corsd_client_decide(struct corsd_client *c,
				  const struct corsd_request *req,
				  struct corsd_answer *ans);

/* Change the handle's timeout (within the bounds above) for the calls
 * that follow, e.g. per nginx location.  Return: 0 or -CORSD_EINVAL. */
CORSD_API int corsd_client_set_timeout(struct corsd_client *c,
				       unsigned timeout_ms);

/* Release the slot (close the registration connection) and the mappings.
 * corsd_client_close(NULL) is fine. */
CORSD_API void corsd_client_close(struct corsd_client *c);

/*
 * corsd_client_why() - why the handle does not ask corsd: "" while it
 * does, else one line saying what the last attempt found, e.g. "corsd is
 * not running (no '/run/corsd/default.cache')" or "'/run/corsd/
 * default.cache' is owned by uid 65534, not corsd's uid 0", or why its
 * breaker is open: "corsd did not answer within 50 ms; not asking it
 * again for 100 ms, then once per back-off (up to 1600 ms) until it
 * answers" (set when it opens, the same until it closes).  The string
 * belongs to the handle and changes with its next call; a caller that
 * logs it should log it when it changes.
 */
CORSD_API const char *corsd_client_why(const struct corsd_client *c);

/* The epoch of the corsd the handle is attached to; 0 when detached. */
CORSD_API uint64_t corsd_client_epoch(const struct corsd_client *c);

/*
 * What a handle's breaker did (see corsd_client_decide()), counted since
 * corsd_client_open(); the same requests are also summed over all
 * workers in corsd's stats ("withheld", "timeouts").
 */
struct corsd_client_stats {
	uint64_t opens;	     /* times the breaker opened */
	uint64_t withheld;   /* requests answered unavailable, not asked */
	uint64_t probes;     /* requests that asked corsd while it was open */
	uint32_t open;	     /* 1 while the breaker is open, else 0 */
	uint32_t backoff_ms; /* its back-off while open, else 0 */
};

/**
 * corsd_client_stats() - copy the handle's breaker counters into @st.
 * @c: a handle; not used by another thread during the call.
 * @st: caller-owned.
 *
 * Return: 0, or -CORSD_EINVAL for NULL arguments.
 */
CORSD_API int corsd_client_stats(const struct corsd_client *c,
				 struct corsd_client_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* CORSD_CLIENT_H */
