/*
 * origin.c - origins: configured entries, incoming Origin values, regex
 * origins and the public-suffix lint.
 *
 * Layer: engine.  Two inputs, two rules (DESIGN.md sections 2 and 3): a
 * policy entry is normalised once and every fault in it is reported with
 * a rule id; an incoming Origin is never normalised, only recognised byte
 * for byte.  The request path (corsd_origin_parse_serialized(),
 * corsd_regex_match()) never allocates on the heap, never calls locale
 * functions and never reads past the length it is given.
 *
 * Build with -DCORSD_REGEX_NO_JIT to run every regex through the PCRE2
 * interpreter, as on a platform without JIT support.
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <libpsl.h>
#include <pcre2.h>

#include "ascii_int.h"
#include "diag_int.h"
#include "origin_int.h"

/* ---- byte classes of origins (ASCII ones in ascii_int.h) ------------ */

static inline bool
is_scheme_char(unsigned char c)
{
	return corsd_ascii_is_alpha(c) || corsd_ascii_is_digit(c) || c == '+' ||
	       c == '-' || c == '.';
}

static inline bool
is_host_char(unsigned char c)
{
	return corsd_ascii_is_alpha(c) || corsd_ascii_is_digit(c) || c == '-' ||
	       c == '_' || c == '.';
}

static inline bool
is_ipv6_char(unsigned char c)
{
	return corsd_ascii_is_hex(c) || c == ':' || c == '.';
}

/* The default ports of the schemes whose origins browsers serialise
 * without them (origin_int.h); 0 for every other scheme. */
static int32_t
default_port(const char *s, size_t len)
{
	if (corsd_ascii_eq(s, len, "http") || corsd_ascii_eq(s, len, "ws"))
		return 80;
	if (corsd_ascii_eq(s, len, "https") || corsd_ascii_eq(s, len, "wss"))
		return 443;
	return 0;
}

/* ---- incoming Origin: recognised, never normalised -------------------- */

bool
corsd_origin_parse_serialized(struct corsd_str in, struct corsd_origin_view *v)
{
	const unsigned char *p = (const unsigned char *)in.p;
	size_t n = in.len, i = 1, h, port_at;
	uint32_t port = 0;

	if (!p || !v || n == 0 || n > CORSD_ORIGIN_MAX ||
	    !corsd_ascii_is_lower(p[0]))
		return false;
	while (i < n &&
	       (corsd_ascii_is_lower(p[i]) || corsd_ascii_is_digit(p[i]) ||
		p[i] == '+' || p[i] == '-' || p[i] == '.'))
		i++;
	if (n - i < 3 || p[i] != ':' || p[i + 1] != '/' || p[i + 2] != '/')
		return false;
	v->scheme.p = in.p;
	v->scheme.len = i;
	i += 3;
	h = i;
	if (i < n && p[i] == '[') {
		/* Browsers serialise IPv6 literals in lower case. */
		i++;
		while (i < n && (corsd_ascii_is_digit(p[i]) ||
				 (p[i] >= 'a' && p[i] <= 'f') || p[i] == ':' ||
				 p[i] == '.'))
			i++;
		if (i == h + 1 || i == n || p[i] != ']')
			return false;
		i++;
	} else {
		size_t label = 0;

		while (i < n && (corsd_ascii_is_lower(p[i]) ||
				 corsd_ascii_is_digit(p[i]) || p[i] == '-' ||
				 p[i] == '_' || p[i] == '.')) {
			if (p[i] == '.') {
				if (label == 0)
					return false;
				label = 0;
			} else {
				label++;
			}
			i++;
		}
		/* An empty host, or one ending in a dot. */
		if (label == 0)
			return false;
	}
	v->host.p = in.p + h;
	v->host.len = i - h;
	v->no_port.p = in.p;
	v->no_port.len = i;
	v->port.p = NULL;
	v->port.len = 0;
	if (i == n)
		return true;
	if (p[i] != ':')
		return false;
	port_at = ++i;
	/* A leading zero covers port 0 too. */
	if (i == n || p[i] == '0')
		return false;
	while (i < n && corsd_ascii_is_digit(p[i])) {
		if (i - port_at == 5)
			return false;
		port = port * 10 + (uint32_t)(p[i] - '0');
		i++;
	}
	if (i != n || port > 65535 ||
	    port == (uint32_t)default_port(in.p, v->scheme.len))
		return false;
	v->port.p = in.p + port_at;
	v->port.len = n - port_at;
	return true;
}

/* ---- diagnostics -------------------------------------------------------- */

static int __attribute__((format(printf, 5, 6)))
report(enum corsd_rule *rule, char *msg, size_t msglen, enum corsd_rule r,
       const char *fmt, ...)
{
	va_list ap;

	if (rule)
		*rule = r;
	if (msg && msglen) {
		va_start(ap, fmt);
		vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
	}
	return -CORSD_EINVAL;
}

/* ---- regexes ------------------------------------------------------------ */

#define REGEX_MATCH_LIMIT 10000
#define REGEX_DEPTH_LIMIT 1000
/* The interpreter's frame vector starts at 20 KiB (PCRE2's
 * START_FRAMES_SIZE) and a heap limit of the same size keeps it from ever
 * growing, so one vector, the match data and the general context fill the
 * arena below.  JIT-ed patterns need none of the frames. */
#define REGEX_HEAP_LIMIT_KIB 20
#define MATCH_ARENA_SIZE     (REGEX_HEAP_LIMIT_KIB * 1024 + 1024)

#define REGEX_OPTIONS                                                \
	(PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOLLAR_ENDONLY | \
	 PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C)

struct corsd_regex {
	pcre2_code *code;
	/* Built at compile time and only read afterwards: PCRE2 allows
	 * one match context to be shared by concurrent matches. */
	pcre2_match_context *mctx;
	bool jit;
};

/*
 * Everything one match allocates comes from this thread's arena: a bump
 * allocator reset at the start of each corsd_regex_match(), so nothing
 * it hands out outlives the call and freeing is a no-op.
 */
struct match_arena {
	alignas(max_align_t) unsigned char buf[MATCH_ARENA_SIZE];
	size_t used;
};

static _Thread_local struct match_arena arena;

static void *
arena_malloc(size_t size, void *data)
{
	size_t a = alignof(max_align_t);
	size_t at = (arena.used + a - 1) & ~(a - 1);

	(void)data;
	if (size > sizeof(arena.buf) || at > sizeof(arena.buf) - size)
		return NULL;
	arena.used = at + size;
	return arena.buf + at;
}

static void
arena_free(void *block, void *data)
{
	(void)block;
	(void)data;
}

/* A '$' preceded by an odd number of backslashes is a literal dollar. */
static bool
regex_is_anchored(const char *p, size_t n)
{
	size_t bs = 0;

	if (n < 2 || p[0] != '^' || p[n - 1] != '$')
		return false;
	for (size_t i = n - 1; i > 0 && p[i - 1] == '\\'; i--)
		bs++;
	return bs % 2 == 0;
}

static struct corsd_regex *
regex_build(const char *pat, size_t len, enum corsd_rule *rule, char *msg,
	    size_t msglen, int *err)
{
	const char *subj;
	struct corsd_quoted q = corsd_quote(pat, pat ? len : 0);
	struct corsd_regex *re;
	PCRE2_UCHAR ebuf[160];
	PCRE2_SIZE eoff;
	int ec;

	subj = q.s;
	*err = -CORSD_EINVAL;
	if (!pat || !regex_is_anchored(pat, len)) {
		report(rule, msg, msglen, CORSD_RULE_ORIGIN_REGEX_ANCHOR,
		       "regex origin '~%s' is not anchored; write it as ^...$",
		       subj);
		return NULL;
	}
	re = calloc(1, sizeof(*re));
	if (!re)
		goto nomem;
	re->code = pcre2_compile((PCRE2_SPTR)pat, len, REGEX_OPTIONS, &ec,
				 &eoff, NULL);
	if (!re->code) {
		free(re);
		if (ec == PCRE2_ERROR_HEAP_FAILED)
			goto nomem;
		if (pcre2_get_error_message(ec, ebuf, sizeof(ebuf)) < 0)
			memcpy(ebuf, "unknown error", sizeof("unknown error"));
		report(rule, msg, msglen, CORSD_RULE_ORIGIN_REGEX_COMPILE,
		       "regex origin '~%s' does not compile: %s at offset %zu",
		       subj, (const char *)ebuf, (size_t)eoff);
		return NULL;
	}
#ifndef CORSD_REGEX_NO_JIT
	{
		uint32_t jit = 0;

		/* A pattern JIT cannot take still runs, interpreted. */
		if (pcre2_config(PCRE2_CONFIG_JIT, &jit) >= 0 && jit &&
		    pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0)
			re->jit = true;
	}
#endif
	re->mctx = pcre2_match_context_create(NULL);
	if (!re->mctx) {
		corsd_regex_free(re);
		goto nomem;
	}
	pcre2_set_match_limit(re->mctx, REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(re->mctx, REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(re->mctx, REGEX_HEAP_LIMIT_KIB);
	*err = 0;
	return re;
nomem:
	*err = -CORSD_ENOMEM;
	report(rule, msg, msglen, CORSD_RULE_ORIGIN_REGEX_COMPILE,
	       "out of memory compiling regex origin '~%s'", subj);
	return NULL;
}

struct corsd_regex *
corsd_regex_new(const char *pat, size_t len, enum corsd_rule *rule, char *msg,
		size_t msglen)
{
	int err;

	return regex_build(pat, len, rule, msg, msglen, &err);
}

bool
corsd_regex_match(const struct corsd_regex *re, const char *s, size_t len)
{
	pcre2_general_context *gctx;
	pcre2_match_data *md;
	int rc;

	if (!re || len > CORSD_ORIGIN_MAX || (!s && len))
		return false;
	if (!s)
		s = "";
	arena.used = 0;
	gctx = pcre2_general_context_create(arena_malloc, arena_free, NULL);
	if (!gctx)
		return false;
	md = pcre2_match_data_create(1, gctx);
	if (!md) {
		pcre2_general_context_free(gctx);
		return false;
	}
	if (re->jit)
		rc = pcre2_jit_match(re->code, (PCRE2_SPTR)s, len, 0, 0, md,
				     re->mctx);
	else
		rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, md,
				 re->mctx);
	pcre2_match_data_free(md);
	pcre2_general_context_free(gctx);
	/* 0 is a match whose captures did not fit the one-pair ovector;
	 * negative is no match or any error (limits, no memory). */
	return rc >= 0;
}

void
corsd_regex_free(struct corsd_regex *re)
{
	if (!re)
		return;
	pcre2_match_context_free(re->mctx);
	pcre2_code_free(re->code);
	free(re);
}

/* ---- public suffixes ---------------------------------------------------- */

bool
corsd_origin_suffix_is_public(const char *domain, size_t len)
{
	const psl_ctx_t *psl = psl_builtin();
	char buf[256];

	/* libpsl wants a C string; a NUL inside would cut it short. */
	if (!psl || !domain || len == 0 || len >= sizeof(buf) ||
	    memchr(domain, '\0', len))
		return false;
	memcpy(buf, domain, len);
	buf[len] = '\0';
	return psl_is_public_suffix2(psl, buf,
				     PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

/* ---- configured entries ------------------------------------------------- */

static int
set_text(struct corsd_origin_pattern *out, enum corsd_origin_kind kind,
	 const char *text, size_t len)
{
	char *t = malloc(len + 1);

	if (!t)
		return -CORSD_ENOMEM;
	memcpy(t, text, len);
	t[len] = '\0';
	out->kind = kind;
	out->text = t;
	out->text_len = len;
	return 0;
}

static int
parse_regex_entry(struct corsd_str in, struct corsd_origin_pattern *out,
		  enum corsd_rule *rule, char *msg, size_t msglen)
{
	struct corsd_regex *re;
	int err;

	/* Compiled here only to report its faults at load time; the
	 * compiler builds the one it keeps. */
	re = regex_build(in.p + 1, in.len - 1, rule, msg, msglen, &err);
	if (!re)
		return err;
	corsd_regex_free(re);
	err = set_text(out, CORSD_ORIGIN_REGEX, in.p + 1, in.len - 1);
	if (err)
		report(rule, msg, msglen, CORSD_RULE_ORIGIN_SYNTAX,
		       "out of memory");
	return err;
}

static size_t
port_digits(int32_t port)
{
	size_t d = 1;

	while (port >= 10) {
		port /= 10;
		d++;
	}
	return d;
}

/* An entry cut into its parts; offsets are into p. */
struct entry {
	const unsigned char *p;
	size_t scheme_len;
	size_t host_at, host_len; /* "*.a.example" whole for wildcards */
	size_t port_at, port_len; /* valid when has_port */
	bool wildcard;
	bool has_port;
	bool port_any;
	int32_t port;
};

#define FAIL(...) \
	report(rule, msg, msglen, CORSD_RULE_ORIGIN_SYNTAX, __VA_ARGS__)

static int
check_host(const struct entry *e, const char *subj, enum corsd_rule *rule,
	   char *msg, size_t msglen, bool *wildcard)
{
	const unsigned char *h = e->p + e->host_at;
	size_t n = e->host_len, i, label = 0, last = 0;
	bool digits_only = true;

	*wildcard = false;
	if (n == 0)
		return FAIL("origin '%s' has an empty host", subj);
	for (i = 0; i < n; i++)
		if (h[i] >= 0x80)
			return FAIL("origin '%s' has a non-ASCII host; write "
				    "it in punycode (xn--...)",
				    subj);
	if (memchr(h, '*', n)) {
		if (n < 2 || h[0] != '*' || h[1] != '.' ||
		    memchr(h + 1, '*', n - 1))
			return FAIL("origin '%s' has a misplaced '*'; it may "
				    "only be the whole leftmost label "
				    "(https://*.example.org) or the whole port",
				    subj);
		*wildcard = true;
		h += 2;
		n -= 2;
		if (n && h[0] == '[')
			return FAIL("origin '%s' puts a subdomain wildcard on "
				    "an IP address",
				    subj);
	}
	for (i = 0; i < n; i++) {
		if (!is_host_char(h[i]))
			return FAIL("origin '%s' has an invalid character "
				    "'%s' in its host",
				    subj,
				    corsd_quote((const char *)&h[i], 1).s);
		if (h[i] == '.') {
			if (label == 0)
				break;
			label = 0;
			last = i + 1;
		} else {
			label++;
		}
	}
	if (i < n || label == 0)
		return FAIL("origin '%s' has an empty label in its host", subj);
	/* A numeric last label makes the whole host an IPv4 address to a
	 * URL parser: there are no subdomains under it. */
	for (i = last; i < n; i++)
		digits_only = digits_only && corsd_ascii_is_digit(h[i]);
	if (*wildcard && digits_only)
		return FAIL("origin '%s' puts a subdomain wildcard on an IP "
			    "address",
			    subj);
	return 0;
}

static int
check_port(struct entry *e, const char *subj, enum corsd_rule *rule, char *msg,
	   size_t msglen)
{
	const unsigned char *p = e->p + e->port_at;
	size_t n = e->port_len;
	int32_t port = 0;

	if (n == 1 && p[0] == '*') {
		e->port_any = true;
		return 0;
	}
	if (n == 0 || n > 5 || p[0] == '0')
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (!corsd_ascii_is_digit(p[i]))
			goto bad;
		port = port * 10 + (p[i] - '0');
	}
	if (port > 65535)
		goto bad;
	e->port = port;
	return 0;
bad:
	return FAIL("origin '%s' has a bad port; a port is 1-65535 without "
		    "leading zeros, or '*'",
		    subj);
}

/* Splits scheme://authority[/], reporting the first thing that makes it
 * more than an origin; the host and port are checked afterwards, host
 * first, so that "*.[::1]" is called a wildcard on an address rather than
 * a bad port. */
static int
split_entry(struct entry *e, size_t n, const char *subj, enum corsd_rule *rule,
	    char *msg, size_t msglen)
{
	const unsigned char *p = e->p;
	size_t i, a, end, t;
	const unsigned char *colon;

	for (i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] == 0x7f)
			return FAIL("origin '%s' contains whitespace or a "
				    "control byte",
				    subj);
	colon = memchr(p, ':', n);
	i = colon ? (size_t)(colon - p) : n;
	if (i == 0 || n - i < 3 || p[i + 1] != '/' || p[i + 2] != '/')
		return FAIL("origin '%s' has no scheme; write it as "
			    "scheme://host[:port]",
			    subj);
	if (!corsd_ascii_is_alpha(p[0]))
		goto bad_scheme;
	for (size_t j = 1; j < i; j++)
		if (!is_scheme_char(p[j]))
			goto bad_scheme;
	if (i > CORSD_SCHEME_MAX)
		return FAIL("origin '%s' has a scheme longer than %d bytes",
			    subj, CORSD_SCHEME_MAX);
	e->scheme_len = i;

	a = i + 3;
	for (end = a; end < n; end++)
		if (p[end] == '/' || p[end] == '?' || p[end] == '#')
			break;
	/* Whatever follows the authority may be one '/' and nothing else. */
	for (t = end; t < n && p[t] != '?' && p[t] != '#'; t++)
		;
	if (t - end > 1)
		return FAIL("origin '%s' has a path; only scheme://host[:port] "
			    "is allowed",
			    subj);
	if (t < n && p[t] == '?')
		return FAIL(
			"origin '%s' has a query; only scheme://host[:port] "
			"is allowed",
			subj);
	if (t < n)
		return FAIL("origin '%s' has a fragment; only "
			    "scheme://host[:port] is allowed",
			    subj);
	if (memchr(p + a, '@', end - a))
		return FAIL(
			"origin '%s' has userinfo; only scheme://host[:port] "
			"is allowed",
			subj);

	e->host_at = a;
	if (a < end && p[a] == '[') {
		const unsigned char *close = memchr(p + a, ']', end - a);
		size_t c = close ? (size_t)(close - p) : end;

		if (!close || c == a + 1)
			goto bad_ipv6;
		for (size_t j = a + 1; j < c; j++)
			if (!is_ipv6_char(p[j]))
				goto bad_ipv6;
		e->host_len = c + 1 - a;
		if (c + 1 == end)
			return 0;
		if (p[c + 1] != ':')
			goto bad_ipv6;
		colon = p + c + 1;
	} else {
		colon = memchr(p + a, ':', end - a);
		e->host_len = colon ? (size_t)(colon - p) - a : end - a;
	}
	if (colon) {
		e->has_port = true;
		e->port_at = (size_t)(colon - p) + 1;
		e->port_len = end - e->port_at;
	}
	return 0;
bad_scheme:
	return FAIL("origin '%s' has an invalid scheme; a scheme is a letter "
		    "then letters, digits, '+', '-' or '.'",
		    subj);
bad_ipv6:
	return FAIL("origin '%s' has an invalid IPv6 address; write it as "
		    "[hex digits, ':' and '.']",
		    subj);
}

int
corsd_origin_pattern_parse(struct corsd_str in,
			   struct corsd_origin_pattern *out,
			   enum corsd_rule *rule, char *msg, size_t msglen)
{
	struct entry e = {.p = (const unsigned char *)in.p};
	struct corsd_quoted q;
	const char *subj;
	enum corsd_origin_kind kind;
	size_t len, at, skip;
	char *t, *w;
	int rc;

	if (!out || (!in.p && in.len))
		return report(rule, msg, msglen, CORSD_RULE_ORIGIN_SYNTAX,
			      "origin entry missing");
	out->text = NULL;
	out->text_len = 0;
	out->scheme[0] = '\0';
	out->scheme_len = 0;
	out->port = CORSD_PORT_DEFAULT;
	q = corsd_quote(in.p, in.len);
	subj = q.s;
	if (in.len == 0)
		return FAIL("origin '' is empty; write scheme://host[:port]");
	if (corsd_ascii_eq(in.p, in.len, "*"))
		return set_text(out, CORSD_ORIGIN_ANY, "*", 1);
	if (corsd_ascii_eq(in.p, in.len, "null"))
		return set_text(out, CORSD_ORIGIN_NULL, "null", 4);
	if (in.p[0] == '~')
		return parse_regex_entry(in, out, rule, msg, msglen);

	rc = split_entry(&e, in.len, subj, rule, msg, msglen);
	if (!rc && !(e.host_len && e.p[e.host_at] == '['))
		rc = check_host(&e, subj, rule, msg, msglen, &e.wildcard);
	if (!rc && e.has_port)
		rc = check_port(&e, subj, rule, msg, msglen);
	if (rc)
		return rc;
	corsd_ascii_lower_copy(out->scheme, in.p, e.scheme_len);
	out->scheme[e.scheme_len] = '\0';
	out->scheme_len = e.scheme_len;
	if (e.has_port && !e.port_any &&
	    e.port == default_port(out->scheme, out->scheme_len))
		e.has_port = false;

	/* len is the text; at the shortest origin the entry can match,
	 * which must fit CORSD_ORIGIN_MAX. */
	if (e.wildcard) {
		kind = CORSD_ORIGIN_SUBDOMAIN;
		skip = 1;
		len = e.host_len - 1;
		at = e.scheme_len + 3 + 1 + len;
		if (e.port_any) {
			out->port = CORSD_PORT_ANY;
		} else if (e.has_port) {
			out->port = e.port;
			at += 1 + port_digits(e.port);
		} else {
			out->port = CORSD_PORT_DEFAULT;
		}
	} else if (e.port_any) {
		kind = CORSD_ORIGIN_ANYPORT;
		skip = 0;
		len = e.scheme_len + 3 + e.host_len;
		at = len;
		out->port = CORSD_PORT_ANY;
	} else {
		kind = CORSD_ORIGIN_EXACT;
		skip = 0;
		len = e.scheme_len + 3 + e.host_len;
		if (e.has_port)
			len += 1 + port_digits(e.port);
		at = len;
		out->port = e.has_port ? e.port : CORSD_PORT_DEFAULT;
	}
	if (at > CORSD_ORIGIN_MAX)
		return FAIL("origin '%s' is longer than %d bytes", subj,
			    CORSD_ORIGIN_MAX);
	t = malloc(len + 1);
	if (!t) {
		report(rule, msg, msglen, CORSD_RULE_ORIGIN_SYNTAX,
		       "out of memory");
		return -CORSD_ENOMEM;
	}
	w = t;
	if (kind != CORSD_ORIGIN_SUBDOMAIN) {
		w = corsd_ascii_lower_copy(w, in.p, e.scheme_len);
		memcpy(w, "://", 3);
		w += 3;
	}
	w = corsd_ascii_lower_copy(w, in.p + e.host_at + skip,
				   e.host_len - skip);
	if (kind == CORSD_ORIGIN_EXACT && e.has_port)
		w += snprintf(w, len + 1 - (size_t)(w - t), ":%d", e.port);
	*w = '\0';
	out->kind = kind;
	out->text = t;
	out->text_len = len;
	return 0;
}
