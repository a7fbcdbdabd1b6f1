/*
 * tbl_errors.h - the one error space of corsd, as an X-macro table.
 *
 * Layer: engine (shared by every layer above it).  Each row is
 * CORSD_ERR(NAME, value, "message"); the table expands into the enum in
 * corsd_err.h and into corsd_strerror().  Values are stable: they cross
 * the shared-memory ABI.  Values 12 (PROTO) and 13 (BUSY) were never
 * returned by anything and are retired: never reuse them.
 */
CORSD_ERR(OK,        0, "success")
CORSD_ERR(NOMEM,     1, "out of memory")
CORSD_ERR(INVAL,     2, "invalid argument")
CORSD_ERR(IO,        3, "input/output error")
CORSD_ERR(POLICY,    4, "policy file has errors")
CORSD_ERR(TOOBIG,    5, "value exceeds a configured limit")
CORSD_ERR(NOENT,     6, "no such policy or entry")
CORSD_ERR(HASH,      7, "perfect hash could not be built")
CORSD_ERR(REGEX,     8, "regular expression error")
CORSD_ERR(AGAIN,     9, "resource temporarily unavailable")
CORSD_ERR(TIMEDOUT, 10, "timed out")
CORSD_ERR(UNAVAIL,  11, "corsd is not available")
CORSD_ERR(PERM,     14, "permission denied")
