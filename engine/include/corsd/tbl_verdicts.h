/*
 * tbl_verdicts.h - what a web server does with an answer, as an X-macro
 * table.
 *
 * Layer: engine, public (corsd_types.h expands it into enum
 * corsd_verdict; err.c into corsd_verdict_name()).  Row:
 * CORSD_VERDICT(NAME, value, "stat-name").  Values are stable: they cross
 * the shared-memory ABI; the stat name is what CLI, stats and logs print.
 */
CORSD_VERDICT(NOT_CORS,    0, "not-cors")    /* no Origin: only Vary, if anything */
CORSD_VERDICT(ALLOW,       1, "allow")       /* add the headers; status if preflight */
CORSD_VERDICT(DENY,        2, "deny")        /* answer with status, no CORS headers */
CORSD_VERDICT(PASS,        3, "pass")        /* rejected: to the app, no CORS headers */
CORSD_VERDICT(EMPTY,       4, "empty")       /* rejected preflight: 200, no CORS headers */
CORSD_VERDICT(NO_POLICY,   5, "no-policy")   /* the policy name is unknown */
CORSD_VERDICT(UNAVAILABLE, 6, "unavailable") /* client library: corsd did not answer */
