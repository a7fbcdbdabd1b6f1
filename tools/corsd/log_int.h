/*
 * log_int.h - the daemon's log: one line per event.
 *
 * Layer: tools/corsd, internal.  Rule: any thread may log at any time;
 * never from a signal handler (corsd has none that do work).
 */
#ifndef CORSD_LOG_INT_H
#define CORSD_LOG_INT_H

#include <stdbool.h>
#include <syslog.h>

/* Start logging: to stderr always (until corsd_log_detach()), and to
 * syslog (LOG_DAEMON) too when @to_syslog. */
void corsd_log_open(bool to_syslog);
/* Stop writing to stderr: it is about to point at /dev/null. */
void corsd_log_detach(void);
void corsd_log_close(void);

/* Log one line, "corsd[pid]: MESSAGE", at syslog priority @prio. */
void corsd_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* CORSD_LOG_INT_H */
