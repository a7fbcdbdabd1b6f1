/*
 * policy_int.h - the validated, not yet compiled, policy model.
 *
 * Layer: engine, internal.  The loader (load.c) builds it from YAML and
 * enforces every rule of DESIGN.md section 2; the compiler (compile.c)
 * reads it and trusts it.  Everything is owned by the set and freed by
 * corsd_policy_set_free().  Strings are NUL-terminated copies so that
 * diagnostics can print them; lengths are kept beside them.
 */
#ifndef CORSD_POLICY_INT_H
#define CORSD_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corsd_engine.h"

enum corsd_origin_kind {
	CORSD_ORIGIN_EXACT,	/* https://app.example.com */
	CORSD_ORIGIN_SUBDOMAIN, /* https: + *.example.org, port optional or * */
	CORSD_ORIGIN_ANYPORT,	/* http://localhost:* */
	CORSD_ORIGIN_REGEX,	/* ~^https://pr-[0-9]+\.example\.net$ */
	CORSD_ORIGIN_ANY,	/* * */
	CORSD_ORIGIN_NULL,	/* null */
};

#define CORSD_PORT_DEFAULT 0	/* no port in the origin: the scheme's own */
#define CORSD_PORT_ANY	   (-1) /* ":*" */
#define CORSD_SCHEME_MAX   32

/*
 * One configured origin entry, normalised.  text is:
 *   EXACT      the canonical origin, "https://a.example:8443"
 *   SUBDOMAIN  the suffix with its leading dot, ".example.org"
 *   ANYPORT    "scheme://host", no port
 *   REGEX      the pattern without its leading '~'
 *   ANY, NULL  "*" or "null"
 * scheme and port are meaningful for SUBDOMAIN only (ANYPORT and EXACT
 * carry theirs in text).
 */
struct corsd_origin_pattern {
	enum corsd_origin_kind kind;
	uint32_t line;
	uint32_t column;
	char *text;
	size_t text_len;
	char scheme[CORSD_SCHEME_MAX + 1];
	size_t scheme_len;
	int32_t port;
};

/*
 * methods, allow_headers, expose_headers.  wildcard is set when the value
 * was "*" or the list held "*"; v holds the explicit names besides it.
 * Methods are stored normalised (the six that browsers normalise are upper
 * case, every other token as written); header names as written, for
 * rendering: the compiler lowercases its own copy for matching.
 * Duplicates (case-insensitive for headers) are already removed.
 */
struct corsd_name_list {
	bool wildcard;
	size_t n;
	char **v;
	size_t *len;
};

enum corsd_preflight_reject {
	CORSD_PREFLIGHT_REJECT_DENY,  /* 403; 405 for a refused method */
	CORSD_PREFLIGHT_REJECT_PASS,  /* to the application */
	CORSD_PREFLIGHT_REJECT_EMPTY, /* 200, no CORS headers */
};

enum corsd_origin_reject {
	CORSD_ORIGIN_REJECT_PASS, /* no CORS headers */
	CORSD_ORIGIN_REJECT_DENY, /* 403 */
};

#define CORSD_MAX_AGE_UNSET (-1)

struct corsd_policy {
	char *name;
	size_t name_len;
	uint32_t line;
	uint32_t column;
	struct corsd_origin_pattern *origins;
	size_t norigins;
	bool origin_any;		/* "*" listed */
	bool origin_null;		/* "null" listed */
	struct corsd_name_list methods; /* omitted or []: GET, HEAD, POST */
	struct corsd_name_list allow_headers;
	struct corsd_name_list expose_headers;
	bool credentials;
	bool private_network;
	int64_t max_age;	   /* CORSD_MAX_AGE_UNSET or 0..86400 */
	uint16_t preflight_status; /* 200 or 204 */
	enum corsd_preflight_reject on_preflight_reject;
	enum corsd_origin_reject on_origin_reject;
};

struct corsd_policy_set {
	struct corsd_policy *v;
	size_t n;
};

#endif /* CORSD_POLICY_INT_H */
