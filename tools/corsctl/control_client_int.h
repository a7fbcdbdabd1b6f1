/*
 * control_client_int.h - corsctl's control-socket client: reload and
 * stats, asked of a running corsd.
 *
 * Layer: tools/corsctl, internal.  The protocol is written down at the
 * top of tools/corsd/control.c.
 */
#ifndef CORSCTL_CONTROL_CLIENT_INT_H
#define CORSCTL_CONTROL_CLIENT_INT_H

#include <stdbool.h>

/*
 * Send @what ("reload" or "stats") to the corsd of @instance (NULL:
 * "default") and print its answer: one JSON line with @json, else
 * readable "key.key: value" lines, strings decoded.  A reload succeeded
 * when the answer's "ok" is true.  Return: the exit status (0, or 1 when
 * corsd is not there, answered with something that is not a JSON object,
 * or refused a reload).
 */
int corsctl_control_command(const char *instance, const char *what, bool json);

#endif /* CORSCTL_CONTROL_CLIENT_INT_H */
