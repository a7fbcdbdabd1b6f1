/*
 * tbl_reasons.h - why decide() answered as it did, as an X-macro table.
 *
 * Layer: engine.  Row: CORSD_REASON(NAME, "stat-name", "format").  The
 * format takes at most one "%s", the subject (a method, a header name, a
 * policy name or an origin) that decide() copied, bounded and checked,
 * into the answer.  Rejection texts use the words a browser console uses,
 * so an operator can grep one for the other.  Values are stable: they
 * cross the shared-memory ABI and name the stats counters.
 */
CORSD_REASON(ALLOWED, "allowed",
	"allowed")
CORSD_REASON(NOT_CORS, "not-cors",
	"no Origin header: not a CORS request")
CORSD_REASON(UNKNOWN_POLICY, "unknown-policy",
	"policy '%s' is not defined in the loaded policy file")
CORSD_REASON(ORIGIN_MALFORMED, "origin-malformed",
	"The 'Origin' request header is not a serialized origin")
CORSD_REASON(ORIGIN_NOT_ALLOWED, "origin-not-allowed",
	"No 'Access-Control-Allow-Origin' header is present on the requested resource: origin '%s' is not allowed")
CORSD_REASON(METHOD_MALFORMED, "method-malformed",
	"Access-Control-Request-Method is not a single method token")
CORSD_REASON(METHOD_NOT_ALLOWED, "method-not-allowed",
	"Method %s is not allowed by Access-Control-Allow-Methods in preflight response.")
CORSD_REASON(HEADERS_MALFORMED, "headers-malformed",
	"Access-Control-Request-Headers is not a list of header names")
CORSD_REASON(HEADERS_TOO_MANY, "headers-too-many",
	"Access-Control-Request-Headers names more than 64 headers")
CORSD_REASON(HEADERS_TOO_LONG, "headers-too-long",
	"Access-Control-Request-Headers is longer than 4096 bytes")
CORSD_REASON(HEADER_NOT_ALLOWED, "header-not-allowed",
	"Request header field %s is not allowed by Access-Control-Allow-Headers in preflight response.")
CORSD_REASON(PRIVATE_NETWORK_NOT_ALLOWED, "private-network-not-allowed",
	"Access-Control-Request-Private-Network is not allowed by Access-Control-Allow-Private-Network in preflight response.")
CORSD_REASON(UNAVAILABLE, "unavailable",
	"corsd did not answer in time")
