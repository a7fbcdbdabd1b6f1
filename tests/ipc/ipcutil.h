/*
 * ipcutil.h - harness for the multi-process tests: a real corsd started
 * from the build directory, workers forked with PR_SET_PDEATHSIG so that
 * nothing outlives a failed test, and a comparison of answers.
 *
 * Layer: tests.
 */
#ifndef CORSD_IPCUTIL_H
#define CORSD_IPCUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "corsd_engine.h"

struct daemon {
	pid_t pid;
	char instance[40];
	char rundir[128];
	char policy[192]; /* the policy file corsd was started on */
	char bin[512];
};

/* A fresh instance name and runtime directory; no daemon yet. */
void daemon_prepare(struct daemon *d, const char *tag);
/* Write @text to the policy path (atomically: temp file and rename). */
void daemon_write_policy(struct daemon *d, const char *text);
/* Start corsd in the foreground with extra args (NULL-terminated) and
 * wait until its segments say SERVING.  Return false on failure. */
bool daemon_start(struct daemon *d, const char *const *extra);
/* daemon_prepare(), daemon_write_policy(@policy) and daemon_start(@extra)
 * in one, for a test's setup.  Return false when corsd did not start. */
bool daemon_launch(struct daemon *d, const char *tag, const char *policy,
		   const char *const *extra);
/* SIGTERM, wait up to 5 s, then SIGKILL.  Safe to call twice. */
void daemon_stop(struct daemon *d);
void daemon_kill9(struct daemon *d);
/* SIGSTOP corsd and wait until every thread of it has stopped (a hung
 * corsd: alive, its segments there, nothing answers); false if it did
 * not.  daemon_resume(): SIGCONT. */
bool daemon_pause(struct daemon *d);
void daemon_resume(struct daemon *d);
/* Send one control command; the one-line reply into buf. */
bool daemon_control(struct daemon *d, const char *cmd, char *buf, size_t size);
/* Remove the runtime directory and policy file. */
void daemon_cleanup(struct daemon *d);

/*
 * A registration made by hand, as the client library makes it, for the
 * tests that need the raw slot (or play a hostile worker): connected to
 * <rundir>/<instance>.workers, the message taken, the memfd mapped.
 * The slot is ours while @sock is open.
 */
struct registration {
	int sock;
	int memfd;
	unsigned idx;
	size_t size;
	void *slot;		/* struct corsd_slot */
	unsigned long long ino; /* the memfd's inode */
};

/* 0, or -1 (no slot: every one taken, or no corsd). */
int register_by_hand(const struct daemon *d, struct registration *r);
/* Unmap, close the memfd and the connection (which gives the slot back). */
void registration_release(struct registration *r);

/* Sleep @ms milliseconds. */
void sleep_ms(unsigned ms);

/* Fork a child that dies with the test; returns its pid in the parent
 * and 0 in the child. */
pid_t fork_worker(void);
/* Wait for a child; its exit status, or 128 + signal. */
int wait_worker(pid_t pid);

/* Compile a policy text in-process (for expected answers). */
struct corsd_snapshot *compile_text(const char *text, uint64_t gen);

/* Same verdict, status, reason, subject, max-age and headers in order. */
bool answers_equal(const struct corsd_answer *a, const struct corsd_answer *b);

/*
 * The value at @path of the JSON object @json (parsed by jansson):
 * "workers.hits" walks objects; a name without a dot is looked up at the
 * top, then in nested objects, the first one in order.  Return: an
 * integer as it is, true 1, false 0; -1 when there is no such integer or
 * boolean (or @json is not JSON).
 */
long long json_field(const char *json, const char *path);
/* Is the value at @path (as json_field()) a string? */
bool json_field_is_string(const char *json, const char *path);

#endif
