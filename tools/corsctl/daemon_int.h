/*
 * daemon_int.h - corsctl's side of corsd's control socket.
 *
 * Layer: tools.
 */
#ifndef CORSCTL_DAEMON_INT_H
#define CORSCTL_DAEMON_INT_H

#include <stdbool.h>

/*
 * Send @what ("reload" or "stats") to the corsd of @instance (NULL:
 * "default") and print the answer: the raw JSON line with @json, else
 * readable lines.  Return: the exit status (0, or 1 when corsd is not
 * there or refused a reload).
 */
int corsctl_control(const char *instance, const char *what, bool json);

#endif /* CORSCTL_DAEMON_INT_H */
