/*
 * log.c - the daemon's log: "corsd[pid]: MESSAGE", one line per event,
 * to stderr and, when daemonised, to syslog.
 *
 * Layer: tools/corsd.  Rule: one write(2) per line, so lines from
 * different threads never interleave; no locks, no allocation.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log_int.h"

#define LOG_LINE_MAX 1024

/* Relaxed: each flag is a standalone switch; a line logged around the
 * moment one flips may go either way, which is harmless. */
static _Atomic bool log_stderr = true;
static _Atomic bool log_syslog;

void
corsd_log_open(bool to_syslog)
{
	if (to_syslog)
		openlog("corsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store_explicit(&log_syslog, to_syslog, memory_order_relaxed);
}

void
corsd_log_detach(void)
{
	atomic_store_explicit(&log_stderr, false, memory_order_relaxed);
}

void
corsd_log_close(void)
{
	if (atomic_exchange_explicit(&log_syslog, false, memory_order_relaxed))
		closelog();
}

void
corsd_log(int prio, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	size_t head, len, i;
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "corsd[%ld]: ", (long)getpid());
	head = n > 0 ? (size_t)n : 0;
	va_start(ap, fmt);
	n = vsnprintf(line + head, sizeof(line) - head - 1, fmt, ap);
	va_end(ap);
	len = head + (n < 0 ? 0 : (size_t)n);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	/* Messages quote policy files and paths: a control character in
	 * one must not forge a second log line. */
	for (i = head; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[len] = '\0';

	if (atomic_load_explicit(&log_syslog, memory_order_relaxed))
		syslog(prio, "%s", line + head);
	if (atomic_load_explicit(&log_stderr, memory_order_relaxed)) {
		line[len] = '\n';
		/* Nothing to do about a failed write to stderr. */
		if (write(STDERR_FILENO, line, len + 1) < 0)
			return;
	}
}
