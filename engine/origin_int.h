/*
 * origin_int.h - origins: configured entries, incoming Origin values,
 * regexes and the public-suffix lint.
 *
 * Layer: engine, internal.  Two very different inputs meet here: entries
 * of a policy file (normalised once, errors reported with a rule id) and
 * the raw Origin header of a request (never normalised: byte-exact
 * comparison with canonical forms, DESIGN.md section 3).
 */
#ifndef CORSD_ORIGIN_INT_H
#define CORSD_ORIGIN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "corsd_engine.h"
#include "policy_int.h"

/* Slices of an incoming serialised origin; all point into the input. */
struct corsd_origin_view {
	struct corsd_str scheme;  /* "https" */
	struct corsd_str host;	  /* "a.example.org" or "[::1]" */
	struct corsd_str port;	  /* "8443"; len 0 when absent */
	struct corsd_str no_port; /* "https://a.example.org" */
};

/**
 * corsd_origin_parse_serialized() - is @in a serialised origin?
 *
 * Accepts exactly what a browser sends for a tuple origin: a lowercase
 * scheme [a-z][a-z0-9+.-]*, "://", a lowercase host of [a-z0-9._-] (or a
 * bracketed IPv6 literal of [0-9a-f:.]), and an optional port of 1-5
 * digits without a leading zero, at most 65535, and not the scheme's
 * default (80 for http/ws, 443 for https/wss).  At most CORSD_ORIGIN_MAX
 * bytes.  Anything else, "null" included, returns false and @v is
 * unspecified.  Reads only in[0, len).
 */
bool corsd_origin_parse_serialized(struct corsd_str in,
				   struct corsd_origin_view *v);

/**
 * corsd_origin_pattern_parse() - classify and normalise a configured entry.
 * @in: the entry as written in the policy file.
 * @out: filled on success; out->text is malloc'd (caller frees).  line and
 *       column are left for the caller.
 * @rule, @msg: on failure, the rule broken and a message in the project's
 *       style ("origin 'https://a.example/x' has a path; only
 *       scheme://host[:port] is allowed").
 *
 * Recognises "*", "null", "~regex" (syntax and anchoring checked and the
 * pattern compiled once), subdomain wildcards
 * (scheme, "://", "*.suffix", then an optional ":port" or ":*"),
 * "scheme://host:*" and exact origins, which are normalised: lowercase
 * scheme and host, default port dropped, one trailing '/' dropped.
 * Return: 0, or -CORSD_EINVAL with @rule and @msg set, or -CORSD_ENOMEM.
 */
int corsd_origin_pattern_parse(struct corsd_str in,
			       struct corsd_origin_pattern *out,
			       enum corsd_rule *rule, char *msg, size_t msglen);

/**
 * corsd_origin_suffix_is_public() - is @domain (no leading dot, lowercase)
 * a public suffix such as "github.io" or "co.uk" (libpsl's built-in list)?
 */
bool corsd_origin_suffix_is_public(const char *domain, size_t len);

/* A compiled, JIT-ed regex origin.  Immutable; matching is thread-safe. */
struct corsd_regex;

/**
 * corsd_regex_new() - compile an origin regex (without its '~').
 *
 * Rejects (rule ORIGIN_REGEX_ANCHOR) a pattern that does not start with
 * '^' and end with an unescaped '$', and (ORIGIN_REGEX_COMPILE) one that
 * PCRE2 refuses.  Compiled with PCRE2_ANCHORED | PCRE2_ENDANCHORED all the
 * same, so "^a|b$" cannot match a prefix, with match and depth limits so
 * that a hostile Origin cannot burn CPU.
 */
struct corsd_regex *corsd_regex_new(const char *pat, size_t len,
				    enum corsd_rule *rule, char *msg,
				    size_t msglen);

/**
 * corsd_regex_match() - does @s match?  No heap allocation (match data in
 * thread-local storage), bounded work; any PCRE2 error counts as no match.
 */
bool corsd_regex_match(const struct corsd_regex *re, const char *s, size_t len);

void corsd_regex_free(struct corsd_regex *re);

#endif /* CORSD_ORIGIN_INT_H */
