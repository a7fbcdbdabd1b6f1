/*
 * load.c - policy file (YAML, or JSON since it is YAML) -> a validated
 * struct corsd_policy_set.
 *
 * Layer: engine.  Governed by DESIGN.md section 2 and the rule table in
 * corsd/tbl_rules.h.  This file holds the policy rules only: what each key
 * means, what values it takes and how policies are checked as a whole.
 * Reading the file (libyaml events, the checks every node gets, capped
 * reports) is the cursor's job (yaml_cursor.c); quoting subjects and
 * did-you-mean are diag.c's.  Every problem is reported with its rule and
 * 1-based line:column, going on past the first.  Any error fails the
 * load; warnings alone do not.
 *
 * Choices the format leaves open (the first two enforced by the cursor):
 * - anchors and aliases are refused with the 'document' rule (aliases are
 *   never expanded); explicit tags ("!!str") with the 'type' rule.
 * - scalars are typed by the YAML 1.2 core schema: a plain null, true or
 *   number where a string is needed is a type error ("null" as an origin
 *   must be quoted: a bare null is no origin at all).
 * - positions are those of the offending node; whole-file problems
 *   (unreadable, too large) are reported at 0:0.
 * - diagnostics of one load are sorted into file order at the end, since
 *   some checks (credentials against wildcards) can only run once a whole
 *   policy has been read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "ascii_int.h"
#include "diag_int.h"
#include "origin_int.h"
#include "policy_int.h"
#include "yaml_cursor_int.h"

#define LOAD_FILE_MAX	  ((size_t)64 << 20)
#define LOAD_REGEX_MAX	  1024
#define LOAD_POLICIES_MAX 1000
#define LOAD_ORIGINS_MAX  1000000

struct loader {
	struct corsd_yaml y; /* the file being read */
	struct corsd_policy_set *set;
	size_t set_cap;
};

#define ERR(ld, rule, where, ...)                                              \
	corsd_yaml_report(&(ld)->y, CORSD_SEV_ERROR, CORSD_RULE_##rule, where, \
			  __VA_ARGS__)
#define WARN(ld, rule, where, ...)                                        \
	corsd_yaml_report(&(ld)->y, CORSD_SEV_WARNING, CORSD_RULE_##rule, \
			  where, __VA_ARGS__)

/* ---- model building --------------------------------------------------- */

static char *
dup_bytes(struct loader *ld, const char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (!s) {
		corsd_yaml_stop(&ld->y, -CORSD_ENOMEM);
		return NULL;
	}
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static int
list_push(struct loader *ld, struct corsd_name_list *l, const char *p,
	  size_t len)
{
	char *s = dup_bytes(ld, p, len);
	char **v;
	size_t *lens;

	if (!s)
		return -1;
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v)
		l->v = v;
	lens = v ? realloc(l->len, (l->n + 1) * sizeof(*lens)) : NULL;
	if (lens)
		l->len = lens;
	if (!v || !lens) {
		free(s);
		corsd_yaml_stop(&ld->y, -CORSD_ENOMEM);
		return -1;
	}
	l->v[l->n] = s;
	l->len[l->n] = len;
	l->n++;
	return 0;
}

static struct corsd_policy *
policy_add(struct loader *ld)
{
	struct corsd_policy_set *set = ld->set;
	struct corsd_policy *p;

	if (set->n == ld->set_cap) {
		size_t cap = ld->set_cap ? ld->set_cap * 2 : 8;

		p = realloc(set->v, cap * sizeof(*p));
		if (!p) {
			corsd_yaml_stop(&ld->y, -CORSD_ENOMEM);
			return NULL;
		}
		set->v = p;
		ld->set_cap = cap;
	}
	p = &set->v[set->n++];
	memset(p, 0, sizeof(*p));
	p->max_age = CORSD_MAX_AGE_UNSET;
	p->preflight_status = 204;
	p->on_preflight_reject = CORSD_PREFLIGHT_REJECT_DENY;
	p->on_origin_reject = CORSD_ORIGIN_REJECT_PASS;
	return p;
}

/* ---- one policy ------------------------------------------------------- */

enum pkey {
	K_ORIGINS,
	K_METHODS,
	K_ALLOW_HEADERS,
	K_EXPOSE_HEADERS,
	K_CREDENTIALS,
	K_MAX_AGE,
	K_PRIVATE_NETWORK,
	K_PREFLIGHT_STATUS,
	K_ON_PREFLIGHT_REJECT,
	K_ON_ORIGIN_REJECT,
	K__COUNT
};

static const char *const policy_keys[K__COUNT] = {
	[K_ORIGINS] = "origins",
	[K_METHODS] = "methods",
	[K_ALLOW_HEADERS] = "allow_headers",
	[K_EXPOSE_HEADERS] = "expose_headers",
	[K_CREDENTIALS] = "credentials",
	[K_MAX_AGE] = "max_age",
	[K_PRIVATE_NETWORK] = "private_network",
	[K_PREFLIGHT_STATUS] = "preflight_status",
	[K_ON_PREFLIGHT_REJECT] = "on_preflight_reject",
	[K_ON_ORIGIN_REJECT] = "on_origin_reject",
};

/* Duplicate detection over normalised origins: open addressing on index+1. */
struct oset {
	uint32_t *slot;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

struct pstate {
	struct corsd_policy *p;
	struct corsd_quoted name;
	bool seen[K__COUNT];
	struct corsd_pos first[K__COUNT];
	struct corsd_pos any_at; /* the first "*" origin */
	size_t other_entries;	 /* origin entries besides "*", valid or not */
	struct corsd_pos
		star_at[K__COUNT]; /* "*" of methods and header lists */
	struct oset dups;
};

static uint64_t
origin_hash(const struct corsd_origin_pattern *o)
{
	uint64_t h = 1469598103934665603ull;

	h = (h ^ (uint64_t)o->kind) * 1099511628211ull;
	for (size_t i = 0; i < o->text_len; i++)
		h = (h ^ (unsigned char)o->text[i]) * 1099511628211ull;
	if (o->kind == CORSD_ORIGIN_SUBDOMAIN) {
		for (size_t i = 0; i < o->scheme_len; i++)
			h = (h ^ (unsigned char)o->scheme[i]) *
			    1099511628211ull;
		h = (h ^ (uint32_t)o->port) * 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static bool
origin_same(const struct corsd_origin_pattern *a,
	    const struct corsd_origin_pattern *b)
{
	if (a->kind != b->kind || a->text_len != b->text_len ||
	    memcmp(a->text, b->text, a->text_len) != 0)
		return false;
	if (a->kind != CORSD_ORIGIN_SUBDOMAIN)
		return true;
	return a->port == b->port && a->scheme_len == b->scheme_len &&
	       memcmp(a->scheme, b->scheme, a->scheme_len) == 0;
}

static int
oset_grow(struct oset *s, const struct corsd_origin_pattern *v)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	uint32_t *slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -CORSD_ENOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		size_t j;

		if (!s->slot[i])
			continue;
		j = origin_hash(&v[s->slot[i] - 1]) & (cap - 1);
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = s->slot[i];
	}
	free(s->slot);
	s->slot = slot;
	s->cap = cap;
	return 0;
}

/*
 * Is @o already among v[0..n)?  If not, remember that it will be v[n].
 * Return: 1 duplicate, 0 new, -CORSD_ENOMEM.
 */
static int
oset_insert(struct oset *s, const struct corsd_origin_pattern *v, size_t n,
	    const struct corsd_origin_pattern *o)
{
	size_t j;

	if ((s->n + 1) * 2 > s->cap && oset_grow(s, v))
		return -CORSD_ENOMEM;
	for (j = origin_hash(o) & (s->cap - 1); s->slot[j];
	     j = (j + 1) & (s->cap - 1))
		if (origin_same(&v[s->slot[j] - 1], o))
			return 1;
	s->slot[j] = (uint32_t)(n + 1);
	s->n++;
	return 0;
}

static int
origin_append(struct loader *ld, struct corsd_policy *p,
	      const struct corsd_origin_pattern *o)
{
	/* Grown in powers of two: capacity is implied by norigins. */
	if ((p->norigins & (p->norigins - 1)) == 0) {
		size_t cap = p->norigins ? p->norigins * 2 : 1;
		struct corsd_origin_pattern *v =
			realloc(p->origins, cap * sizeof(*v));

		if (!v) {
			corsd_yaml_stop(&ld->y, -CORSD_ENOMEM);
			return -1;
		}
		p->origins = v;
	}
	p->origins[p->norigins++] = *o;
	return 0;
}

/* Line and column of an origin entry, kept in the model. */
static void
origin_at(struct corsd_origin_pattern *o, struct corsd_pos where)
{
	o->line = where.line;
	o->column = where.col;
}

/* One entry of 'origins'; the scalar is current and not yet reported. */
static int
load_origin(struct loader *ld, struct pstate *ps)
{
	struct corsd_policy *p = ps->p;
	struct corsd_origin_pattern o;
	struct corsd_str in = {corsd_yaml_sval(&ld->y),
			       corsd_yaml_slen(&ld->y)};
	struct corsd_pos where = corsd_yaml_here(&ld->y);
	char msg[CORSD_DIAG_MESSAGE_MAX];
	enum corsd_rule rule = CORSD_RULE_ORIGIN_SYNTAX;
	int rc, dup;

	if (corsd_yaml_scalar_type(&ld->y) == CORSD_YAML_NULL) {
		ps->other_entries++;
		ERR(ld, TYPE, where,
		    "origin in policy '%s' is empty (null); write \"null\", "
		    "quoted, for the opaque origin",
		    ps->name.s);
		return 0;
	}
	if (corsd_yaml_scalar_type(&ld->y) != CORSD_YAML_STR) {
		ps->other_entries++;
		ERR(ld, TYPE, where,
		    "origin '%s' in policy '%s' is %s; expected a string",
		    corsd_quote(in.p, in.len).s, ps->name.s,
		    corsd_yaml_node_kind(&ld->y));
		return 0;
	}
	if (!corsd_ascii_eq(in.p, in.len, "*"))
		ps->other_entries++;
	if (in.len > LOAD_REGEX_MAX + 1 && in.p[0] == '~') {
		ERR(ld, LIMIT, where,
		    "regex origin in policy '%s' is %zu bytes; at most %d are "
		    "allowed",
		    ps->name.s, in.len - 1, LOAD_REGEX_MAX);
		return 0;
	}
	memset(&o, 0, sizeof(o));
	msg[0] = '\0';
	rc = corsd_origin_pattern_parse(in, &o, &rule, msg, sizeof(msg));
	if (rc == -CORSD_ENOMEM) {
		corsd_yaml_stop(&ld->y, rc);
		return -1;
	}
	if (rc) {
		corsd_yaml_report(&ld->y, CORSD_SEV_ERROR, rule, where, "%s",
				  msg);
		return 0;
	}
	origin_at(&o, where);
	switch (o.kind) {
	case CORSD_ORIGIN_ANY:
	case CORSD_ORIGIN_NULL:
		/* Flags, not entries: the compiler expects neither in
		 * origins[]. */
		free(o.text);
		if (o.kind == CORSD_ORIGIN_ANY ? p->origin_any
					       : p->origin_null) {
			WARN(ld, ORIGIN_DUPLICATE, where,
			     "origin '%s' is listed twice in policy '%s'",
			     o.kind == CORSD_ORIGIN_ANY ? "*" : "null",
			     ps->name.s);
		} else if (o.kind == CORSD_ORIGIN_ANY) {
			p->origin_any = true;
			ps->any_at = where;
		} else {
			p->origin_null = true;
			WARN(ld, ORIGIN_NULL, where,
			     "origin 'null' in policy '%s' lets in sandboxed "
			     "documents, data: URLs and local files",
			     ps->name.s);
		}
		return 0;
	default:
		break;
	}
	dup = oset_insert(&ps->dups, p->origins, p->norigins, &o);
	if (dup == 1) {
		free(o.text);
		WARN(ld, ORIGIN_DUPLICATE, where,
		     "origin '%s' in policy '%s' is listed twice (after "
		     "normalisation); the second is ignored",
		     corsd_quote(in.p, in.len).s, ps->name.s);
		return 0;
	}
	if (dup < 0)
		corsd_yaml_stop(&ld->y, dup);
	if (dup < 0 || origin_append(ld, p, &o)) {
		free(o.text);
		return -1;
	}
	return 0;
}

static int
load_origins(struct loader *ld, struct pstate *ps)
{
	struct corsd_pos start = corsd_yaml_here(&ld->y);
	size_t count = 0;

	if (ld->y.bad)
		return corsd_yaml_skip(&ld->y);
	if (ld->y.ev.type == YAML_SCALAR_EVENT &&
	    corsd_yaml_scalar_type(&ld->y) == CORSD_YAML_NULL) {
		ERR(ld, ORIGINS_REQUIRED, start,
		    "'origins' of policy '%s' is empty; list the origins it "
		    "allows",
		    ps->name.s);
		return 0;
	}
	if (ld->y.ev.type != YAML_SEQUENCE_START_EVENT) {
		ERR(ld, TYPE, start,
		    "'origins' of policy '%s' is %s; expected a list of "
		    "origins",
		    ps->name.s, corsd_yaml_node_kind(&ld->y));
		return corsd_yaml_skip(&ld->y);
	}
	for (;;) {
		if (corsd_yaml_next(&ld->y))
			return -1;
		if (ld->y.ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (++count > LOAD_ORIGINS_MAX) {
			if (count == LOAD_ORIGINS_MAX + 1)
				ERR(ld, LIMIT, corsd_yaml_here(&ld->y),
				    "policy '%s' has more than %d origins",
				    ps->name.s, LOAD_ORIGINS_MAX);
		} else if (ld->y.ev.type != YAML_SCALAR_EVENT) {
			ps->other_entries++;
			if (!ld->y.bad)
				ERR(ld, TYPE, corsd_yaml_here(&ld->y),
				    "origin in policy '%s' is %s; expected "
				    "a string",
				    ps->name.s, corsd_yaml_node_kind(&ld->y));
		} else if (ld->y.bad) {
			ps->other_entries++;
		} else if (load_origin(ld, ps)) {
			return -1;
		}
		if (corsd_yaml_skip(&ld->y))
			return -1;
	}
	if (count == 0)
		ERR(ld, ORIGINS_REQUIRED, start,
		    "'origins' of policy '%s' is empty; list the origins it "
		    "allows",
		    ps->name.s);
	return 0;
}

/* Browsers upper-case these six only (Fetch, "normalize a method"). */
static const char *const normalised_methods[] = {
	"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT",
};

/* Bytes of the list rendered "*, A, B" as compile.c renders it. */
static size_t
rendered_len(const struct corsd_name_list *l)
{
	size_t len = l->wildcard ? 1 : 0;

	for (size_t i = 0; i < l->n; i++)
		len += (len ? 2 : 0) + l->len[i];
	return len;
}

/* Once the list has grown: report, once, a rendering that no longer fits. */
static void
check_rendered(struct loader *ld, struct pstate *ps, enum pkey which,
	       const struct corsd_name_list *l, struct corsd_pos where,
	       bool *over)
{
	if (*over || rendered_len(l) <= CORSD_LIST_RENDER_MAX)
		return;
	ERR(ld, LIMIT, where,
	    "'%s' of policy '%s' renders longer than %d bytes",
	    policy_keys[which], ps->name.s, CORSD_LIST_RENDER_MAX);
	*over = true;
}

/* One element of methods / allow_headers / expose_headers. */
static int
load_name(struct loader *ld, struct pstate *ps, enum pkey which,
	  struct corsd_name_list *l, bool *over)
{
	const char *s = corsd_yaml_sval(&ld->y);
	size_t len = corsd_yaml_slen(&ld->y);
	struct corsd_pos where = corsd_yaml_here(&ld->y);
	bool method = which == K_METHODS;
	const char *what = method ? "method" : "header name";

	if (corsd_yaml_scalar_type(&ld->y) != CORSD_YAML_STR) {
		ERR(ld, TYPE, where,
		    "%s '%s' in '%s' of policy '%s' is %s; expected a string",
		    what, corsd_quote(s, len).s, policy_keys[which], ps->name.s,
		    corsd_yaml_node_kind(&ld->y));
		return 0;
	}
	if (corsd_ascii_eq(s, len, "*")) {
		if (!l->wildcard)
			ps->star_at[which] = where;
		l->wildcard = true;
		check_rendered(ld, ps, which, l, where, over);
		return 0;
	}
	if (!corsd_ascii_is_token(s, len)) {
		corsd_yaml_report(&ld->y, CORSD_SEV_ERROR,
				  method ? CORSD_RULE_METHOD_SYNTAX
					 : CORSD_RULE_HEADER_SYNTAX,
				  where,
				  "%s '%s' in policy '%s' is not an HTTP token",
				  what, corsd_quote(s, len).s, ps->name.s);
		return 0;
	}
	if (method && len > CORSD_METHOD_MAX) {
		ERR(ld, LIMIT, where,
		    "method '%s' in policy '%s' is longer than %d bytes, "
		    "which no request may be",
		    corsd_quote(s, len).s, ps->name.s, CORSD_METHOD_MAX);
		return 0;
	}
	if (method) {
		for (size_t i = 0; i < 6; i++) {
			const char *m = normalised_methods[i];

			if (corsd_ascii_eq_nocase(s, len, m, strlen(m))) {
				s = m;
				break;
			}
		}
	}
	/* Methods are case-sensitive once normalised; header names are not. */
	for (size_t i = 0; i < l->n; i++)
		if (method ? l->len[i] == len && memcmp(l->v[i], s, len) == 0
			   : corsd_ascii_eq_nocase(l->v[i], l->len[i], s, len))
			return 0;
	if (*over)
		return 0;
	if (list_push(ld, l, s, len))
		return -1;
	check_rendered(ld, ps, which, l, where, over);
	return 0;
}

static int
load_names(struct loader *ld, struct pstate *ps, enum pkey which,
	   struct corsd_name_list *l)
{
	bool over = false;

	if (ld->y.bad)
		return corsd_yaml_skip(&ld->y);
	if (ld->y.ev.type == YAML_SCALAR_EVENT &&
	    corsd_yaml_scalar_type(&ld->y) == CORSD_YAML_STR &&
	    corsd_ascii_eq(corsd_yaml_sval(&ld->y), corsd_yaml_slen(&ld->y),
			   "*")) {
		ps->star_at[which] = corsd_yaml_here(&ld->y);
		l->wildcard = true;
		return 0;
	}
	if (ld->y.ev.type != YAML_SEQUENCE_START_EVENT) {
		ERR(ld, TYPE, corsd_yaml_here(&ld->y),
		    "'%s' of policy '%s' is %s; expected a list or \"*\"",
		    policy_keys[which], ps->name.s,
		    corsd_yaml_node_kind(&ld->y));
		return corsd_yaml_skip(&ld->y);
	}
	for (;;) {
		if (corsd_yaml_next(&ld->y))
			return -1;
		if (ld->y.ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (ld->y.ev.type != YAML_SCALAR_EVENT && !ld->y.bad)
			ERR(ld, TYPE, corsd_yaml_here(&ld->y),
			    "element of '%s' in policy '%s' is %s; expected a "
			    "string",
			    policy_keys[which], ps->name.s,
			    corsd_yaml_node_kind(&ld->y));
		else if (ld->y.ev.type == YAML_SCALAR_EVENT && !ld->y.bad &&
			 load_name(ld, ps, which, l, &over))
			return -1;
		if (corsd_yaml_skip(&ld->y))
			return -1;
	}
}

/* YAML 1.2 core booleans only: "yes", "on" or a quoted "true" are not. */
static int
load_bool(struct loader *ld, struct pstate *ps, enum pkey which, bool *out)
{
	if (ld->y.bad)
		return corsd_yaml_skip(&ld->y);
	if (ld->y.ev.type == YAML_SCALAR_EVENT &&
	    corsd_yaml_scalar_type(&ld->y) == CORSD_YAML_BOOL) {
		*out = corsd_yaml_sval(&ld->y)[0] == 't' ||
		       corsd_yaml_sval(&ld->y)[0] == 'T';
		return 0;
	}
	if (ld->y.ev.type == YAML_SCALAR_EVENT)
		ERR(ld, TYPE, corsd_yaml_here(&ld->y),
		    "'%s' of policy '%s' is '%s' (%s); expected true or false, "
		    "unquoted",
		    policy_keys[which], ps->name.s,
		    corsd_quote(corsd_yaml_sval(&ld->y),
				corsd_yaml_slen(&ld->y))
			    .s,
		    corsd_yaml_node_kind(&ld->y));
	else
		ERR(ld, TYPE, corsd_yaml_here(&ld->y),
		    "'%s' of policy '%s' is %s; expected true or false",
		    policy_keys[which], ps->name.s,
		    corsd_yaml_node_kind(&ld->y));
	return corsd_yaml_skip(&ld->y);
}

/*
 * A decimal integer (YAML 1.2 core without its octal and hex forms),
 * saturated far outside any range the format allows.
 * Return: false when the current node is not one (reported as 'type').
 */
static bool
load_int(struct loader *ld, struct pstate *ps, enum pkey which, int64_t *out)
{
	const char *s;
	size_t len, i = 0;
	bool neg = false;
	int64_t v = 0;

	if (ld->y.bad)
		return false;
	if (ld->y.ev.type != YAML_SCALAR_EVENT) {
		ERR(ld, TYPE, corsd_yaml_here(&ld->y),
		    "'%s' of policy '%s' is %s; expected a whole number",
		    policy_keys[which], ps->name.s,
		    corsd_yaml_node_kind(&ld->y));
		return false;
	}
	s = corsd_yaml_sval(&ld->y);
	len = corsd_yaml_slen(&ld->y);
	if (corsd_yaml_scalar_type(&ld->y) != CORSD_YAML_INT ||
	    (len > 1 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x'))) {
		ERR(ld, TYPE, corsd_yaml_here(&ld->y),
		    "'%s' of policy '%s' is '%s' (%s); expected a whole number "
		    "in decimal, unquoted",
		    policy_keys[which], ps->name.s, corsd_quote(s, len).s,
		    corsd_yaml_node_kind(&ld->y));
		return false;
	}
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i = 1;
	}
	for (; i < len; i++)
		if (v < 1000000000000)
			v = v * 10 + (s[i] - '0');
	*out = neg ? -v : v;
	return true;
}

static int
load_max_age(struct loader *ld, struct pstate *ps)
{
	int64_t v;

	if (!load_int(ld, ps, K_MAX_AGE, &v))
		return corsd_yaml_skip(&ld->y);
	if (v < 0 || v > 86400) {
		ERR(ld, MAX_AGE_RANGE, corsd_yaml_here(&ld->y),
		    "max_age %s of policy '%s' is out of range; allowed are 0 "
		    "to 86400 seconds",
		    corsd_quote(corsd_yaml_sval(&ld->y),
				corsd_yaml_slen(&ld->y))
			    .s,
		    ps->name.s);
		return 0;
	}
	if (v > 7200)
		WARN(ld, MAX_AGE_CAP, corsd_yaml_here(&ld->y),
		     "max_age %lld of policy '%s' is above 7200; Chromium "
		     "caps it at 7200 seconds",
		     (long long)v, ps->name.s);
	ps->p->max_age = v;
	return 0;
}

static int
load_preflight_status(struct loader *ld, struct pstate *ps)
{
	int64_t v;

	if (!load_int(ld, ps, K_PREFLIGHT_STATUS, &v))
		return corsd_yaml_skip(&ld->y);
	if (v != 200 && v != 204) {
		ERR(ld, PREFLIGHT_STATUS, corsd_yaml_here(&ld->y),
		    "preflight_status %s of policy '%s' is neither 200 nor 204",
		    corsd_quote(corsd_yaml_sval(&ld->y),
				corsd_yaml_slen(&ld->y))
			    .s,
		    ps->name.s);
		return 0;
	}
	ps->p->preflight_status = (uint16_t)v;
	return 0;
}

/* One of a fixed set of words; returns its index through @out. */
static int
load_word(struct loader *ld, struct pstate *ps, enum pkey which,
	  const char *const *words, size_t n, const char *expect, int *out)
{
	if (ld->y.bad)
		return corsd_yaml_skip(&ld->y);
	if (ld->y.ev.type != YAML_SCALAR_EVENT) {
		ERR(ld, TYPE, corsd_yaml_here(&ld->y),
		    "'%s' of policy '%s' is %s; expected %s",
		    policy_keys[which], ps->name.s,
		    corsd_yaml_node_kind(&ld->y), expect);
		return corsd_yaml_skip(&ld->y);
	}
	for (size_t i = 0; i < n; i++) {
		if (corsd_ascii_eq(corsd_yaml_sval(&ld->y),
				   corsd_yaml_slen(&ld->y), words[i])) {
			*out = (int)i;
			return 0;
		}
	}
	ERR(ld, REJECT_BEHAVIOUR, corsd_yaml_here(&ld->y),
	    "%s '%s' of policy '%s' is not %s", policy_keys[which],
	    corsd_quote(corsd_yaml_sval(&ld->y), corsd_yaml_slen(&ld->y)).s,
	    ps->name.s, expect);
	return 0;
}

/* In enum order: the index is the value. */
static const char *const preflight_words[] = {"deny", "pass", "empty"};
static const char *const origin_words[] = {"pass", "deny"};

static int
load_value(struct loader *ld, struct pstate *ps, enum pkey which)
{
	struct corsd_policy *p = ps->p;
	int w;

	switch (which) {
	case K_ORIGINS:
		return load_origins(ld, ps);
	case K_METHODS:
		return load_names(ld, ps, which, &p->methods);
	case K_ALLOW_HEADERS:
		return load_names(ld, ps, which, &p->allow_headers);
	case K_EXPOSE_HEADERS:
		return load_names(ld, ps, which, &p->expose_headers);
	case K_CREDENTIALS:
		return load_bool(ld, ps, which, &p->credentials);
	case K_PRIVATE_NETWORK:
		return load_bool(ld, ps, which, &p->private_network);
	case K_MAX_AGE:
		return load_max_age(ld, ps);
	case K_PREFLIGHT_STATUS:
		return load_preflight_status(ld, ps);
	case K_ON_PREFLIGHT_REJECT:
		w = (int)p->on_preflight_reject;
		if (load_word(ld, ps, which, preflight_words, 3,
			      "one of deny, pass, empty", &w))
			return -1;
		p->on_preflight_reject = (enum corsd_preflight_reject)w;
		return 0;
	case K_ON_ORIGIN_REJECT:
		w = (int)p->on_origin_reject;
		if (load_word(ld, ps, which, origin_words, 2,
			      "one of pass, deny", &w))
			return -1;
		p->on_origin_reject = (enum corsd_origin_reject)w;
		return 0;
	case K__COUNT:
		break;
	}
	return corsd_yaml_skip(&ld->y);
}

/* A SUBDOMAIN entry written out again (scheme, wildcard, suffix, port). */
static void
subdomain_text(const struct corsd_origin_pattern *o, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%.*s://*%.*s", (int)o->scheme_len,
			 o->scheme, (int)o->text_len, o->text);

	if (n < 0 || (size_t)n >= size)
		return;
	if (o->port == CORSD_PORT_ANY)
		snprintf(buf + n, size - (size_t)n, ":*");
	else if (o->port != CORSD_PORT_DEFAULT)
		snprintf(buf + n, size - (size_t)n, ":%d", (int)o->port);
}

/* Checks that need the whole policy: credentials may come last. */
static void
finish_policy(struct loader *ld, struct pstate *ps, struct corsd_pos name_at)
{
	struct corsd_policy *p = ps->p;
	bool cred = p->credentials;

	if (!ps->seen[K_ORIGINS])
		ERR(ld, ORIGINS_REQUIRED, name_at,
		    "policy '%s' has no 'origins'; list the origins it allows",
		    ps->name.s);
	for (size_t i = 0; i < p->norigins; i++) {
		const struct corsd_origin_pattern *o = &p->origins[i];
		struct corsd_pos where = {o->line, o->column};
		char text[CORSD_ORIGIN_MAX + 64];

		if (o->kind != CORSD_ORIGIN_SUBDOMAIN || o->text_len < 2 ||
		    !corsd_origin_suffix_is_public(o->text + 1,
						   o->text_len - 1))
			continue;
		subdomain_text(o, text, sizeof(text));
		if (cred)
			ERR(ld, ORIGIN_PUBLIC_SUFFIX, where,
			    "origin '%s' in policy '%s' lets every site under "
			    "the public suffix '%s' read credentialed "
			    "responses",
			    text, ps->name.s, o->text + 1);
		else
			WARN(ld, ORIGIN_PUBLIC_SUFFIX, where,
			     "origin '%s' in policy '%s' lets in every site "
			     "under the public suffix '%s'",
			     text, ps->name.s, o->text + 1);
	}
	if (cred && p->origin_any && ps->other_entries == 0)
		ERR(ld, CREDENTIALS_WILDCARD_ORIGIN, ps->any_at,
		    "origin '*' is the only origin of policy '%s', which has "
		    "credentials: true; browsers never send credentials to "
		    "'*', list the origins instead",
		    ps->name.s);
	if (cred && p->expose_headers.wildcard)
		ERR(ld, CREDENTIALS_WILDCARD_EXPOSE,
		    ps->star_at[K_EXPOSE_HEADERS],
		    "expose_headers '*' in policy '%s' never works with "
		    "credentials: true (browsers read it as a header named "
		    "'*'); list the headers",
		    ps->name.s);
	if (cred && p->methods.wildcard)
		WARN(ld, CREDENTIALS_WILDCARD_REFLECT, ps->star_at[K_METHODS],
		     "methods '*' in policy '%s' with credentials: true is "
		     "answered by echoing the requested method",
		     ps->name.s);
	if (cred && p->allow_headers.wildcard)
		WARN(ld, CREDENTIALS_WILDCARD_REFLECT,
		     ps->star_at[K_ALLOW_HEADERS],
		     "allow_headers '*' in policy '%s' with credentials: true "
		     "is answered by echoing the requested names (never "
		     "'authorization' unless listed)",
		     ps->name.s);
}

static const char *const default_methods[] = {"GET", "HEAD", "POST"};

static bool
valid_policy_name(const struct corsd_yaml_key *k)
{
	if (k->len == 0 || k->len > CORSD_POLICY_NAME_MAX)
		return false;
	for (size_t i = 0; i < k->len; i++) {
		unsigned char c = (unsigned char)k->s[i];

		if (!corsd_ascii_is_alpha(c) && !corsd_ascii_is_digit(c) &&
		    c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

/* One policy: @k is its name, its value is current. */
static int
load_policy(struct loader *ld, const struct corsd_yaml_key *k)
{
	struct pstate ps;
	struct corsd_yaml_key pk;
	int r;
	bool valid = valid_policy_name(k);

	memset(&ps, 0, sizeof(ps));
	ps.name = corsd_yaml_key_quote(k);
	if (!valid)
		ERR(ld, POLICY_NAME, k->where,
		    "policy name '%s' is not 1 to %d bytes of letters, "
		    "digits, '.', '_' or '-'",
		    ps.name.s, CORSD_POLICY_NAME_MAX);
	for (size_t i = 0; valid && i < ld->set->n; i++) {
		const struct corsd_policy *o = &ld->set->v[i];

		if (o->name_len == k->len &&
		    memcmp(o->name, k->s, k->len) == 0) {
			ERR(ld, DUPLICATE_KEY, k->where,
			    "policy '%s' is defined twice; the first is on "
			    "line %u",
			    ps.name.s, o->line);
			return corsd_yaml_skip(&ld->y);
		}
	}
	if (ld->y.bad)
		return corsd_yaml_skip(&ld->y);
	if (ld->y.ev.type != YAML_MAPPING_START_EVENT) {
		ERR(ld, TYPE, corsd_yaml_here(&ld->y),
		    "policy '%s' is %s; expected a mapping with 'origins' and "
		    "its settings",
		    ps.name.s, corsd_yaml_node_kind(&ld->y));
		return corsd_yaml_skip(&ld->y);
	}
	ps.p = policy_add(ld);
	if (!ps.p)
		return -1;
	ps.p->line = k->where.line;
	ps.p->column = k->where.col;
	ps.p->name_len = k->len < sizeof(k->s) ? k->len : sizeof(k->s);
	ps.p->name = dup_bytes(ld, k->s, ps.p->name_len);
	if (!ps.p->name)
		return -1;
	while ((r = corsd_yaml_next_key(&ld->y, &pk)) > 0) {
		size_t i;

		for (i = 0;
		     i < K__COUNT && !corsd_yaml_key_is(&pk, policy_keys[i]);
		     i++)
			;
		if (!pk.ok) {
			/* reported by next_key() */
		} else if (i == K__COUNT) {
			struct corsd_quoted q = corsd_yaml_key_quote(&pk);
			const char *hint = corsd_did_you_mean(
				pk.s, pk.len, policy_keys, K__COUNT);

			if (hint)
				ERR(ld, UNKNOWN_KEY, pk.where,
				    "unknown key '%s' in policy '%s'; did you "
				    "mean '%s'?",
				    q.s, ps.name.s, hint);
			else
				ERR(ld, UNKNOWN_KEY, pk.where,
				    "unknown key '%s' in policy '%s'", q.s,
				    ps.name.s);
		} else if (ps.seen[i]) {
			ERR(ld, DUPLICATE_KEY, pk.where,
			    "duplicate key '%s' in policy '%s'; the first is "
			    "on line %u",
			    policy_keys[i], ps.name.s, ps.first[i].line);
		} else {
			ps.seen[i] = true;
			ps.first[i] = pk.where;
			r = load_value(ld, &ps, (enum pkey)i);
			if (r)
				break;
			continue;
		}
		if (corsd_yaml_skip(&ld->y)) {
			r = -1;
			break;
		}
	}
	free(ps.dups.slot);
	if (r < 0)
		return -1;
	/* Omitted, or an empty list: the default, GET, HEAD, POST (the
	 * compiler takes the model as it is). */
	if (ps.p->methods.n == 0 && !ps.p->methods.wildcard) {
		for (size_t i = 0; i < 3; i++)
			if (list_push(ld, &ps.p->methods, default_methods[i],
				      strlen(default_methods[i])))
				return -1;
	}
	finish_policy(ld, &ps, k->where);
	return 0;
}

/* ---- the document ----------------------------------------------------- */

static int
load_policies(struct loader *ld)
{
	struct corsd_pos start = corsd_yaml_here(&ld->y);
	size_t count = 0;
	struct corsd_yaml_key k;
	int r;

	if (ld->y.bad)
		return corsd_yaml_skip(&ld->y);
	if (ld->y.ev.type != YAML_MAPPING_START_EVENT) {
		if (ld->y.ev.type == YAML_SCALAR_EVENT &&
		    corsd_yaml_scalar_type(&ld->y) == CORSD_YAML_NULL)
			ERR(ld, DOCUMENT, start,
			    "'policies' is empty; define at least one policy");
		else
			ERR(ld, DOCUMENT, start,
			    "'policies' is %s; expected a mapping of policy "
			    "names to policies",
			    corsd_yaml_node_kind(&ld->y));
		return corsd_yaml_skip(&ld->y);
	}
	while ((r = corsd_yaml_next_key(&ld->y, &k)) > 0) {
		count++;
		if (!k.ok) {
			r = corsd_yaml_skip(&ld->y);
		} else if (count > LOAD_POLICIES_MAX) {
			if (count == LOAD_POLICIES_MAX + 1)
				ERR(ld, LIMIT, k.where,
				    "the file defines more than %d policies",
				    LOAD_POLICIES_MAX);
			r = corsd_yaml_skip(&ld->y);
		} else {
			r = load_policy(ld, &k);
		}
		if (r)
			return -1;
	}
	if (r < 0)
		return -1;
	if (count == 0)
		ERR(ld, DOCUMENT, start,
		    "'policies' is empty; define at least one policy");
	return 0;
}

static const char *const top_keys[] = {"version", "policies"};

static int
load_version(struct loader *ld)
{
	if (ld->y.bad)
		return corsd_yaml_skip(&ld->y);
	if (ld->y.ev.type != YAML_SCALAR_EVENT) {
		ERR(ld, VERSION, corsd_yaml_here(&ld->y),
		    "'version' is %s; expected the integer 1",
		    corsd_yaml_node_kind(&ld->y));
		return corsd_yaml_skip(&ld->y);
	}
	if (corsd_yaml_scalar_type(&ld->y) != CORSD_YAML_INT ||
	    !corsd_ascii_eq(corsd_yaml_sval(&ld->y), corsd_yaml_slen(&ld->y),
			    "1"))
		ERR(ld, VERSION, corsd_yaml_here(&ld->y),
		    "unsupported version '%s' (%s); this corsd reads "
		    "'version: 1'",
		    corsd_quote(corsd_yaml_sval(&ld->y),
				corsd_yaml_slen(&ld->y))
			    .s,
		    corsd_yaml_node_kind(&ld->y));
	return 0;
}

static int
load_root(struct loader *ld)
{
	struct corsd_pos start = corsd_yaml_here(&ld->y),
			 first[2] = {{0, 0}, {0, 0}};
	bool seen[2] = {false, false};
	struct corsd_yaml_key k;
	int r;

	if (ld->y.bad)
		return corsd_yaml_skip(&ld->y);
	if (ld->y.ev.type != YAML_MAPPING_START_EVENT) {
		ERR(ld, DOCUMENT, start,
		    "the document is %s; expected a mapping with 'version' "
		    "and 'policies'",
		    corsd_yaml_node_kind(&ld->y));
		return corsd_yaml_skip(&ld->y);
	}
	while ((r = corsd_yaml_next_key(&ld->y, &k)) > 0) {
		size_t i;

		for (i = 0; i < 2 && !corsd_yaml_key_is(&k, top_keys[i]); i++)
			;
		if (!k.ok) {
			r = corsd_yaml_skip(&ld->y);
		} else if (i == 2) {
			struct corsd_quoted q = corsd_yaml_key_quote(&k);
			const char *hint =
				corsd_did_you_mean(k.s, k.len, top_keys, 2);
			size_t j;

			for (j = 0; j < K__COUNT &&
				    !corsd_yaml_key_is(&k, policy_keys[j]);
			     j++)
				;
			if (hint)
				ERR(ld, UNKNOWN_KEY, k.where,
				    "unknown key '%s' at the top level; did "
				    "you mean '%s'?",
				    q.s, hint);
			else if (j < K__COUNT)
				ERR(ld, UNKNOWN_KEY, k.where,
				    "unknown key '%s' at the top level; "
				    "policy settings go under 'policies:' "
				    "and a policy name",
				    q.s);
			else
				ERR(ld, UNKNOWN_KEY, k.where,
				    "unknown key '%s' at the top level; only "
				    "'version' and 'policies' are",
				    q.s);
			r = corsd_yaml_skip(&ld->y);
		} else if (seen[i]) {
			ERR(ld, DUPLICATE_KEY, k.where,
			    "duplicate key '%s'; the first is on line %u",
			    top_keys[i], first[i].line);
			r = corsd_yaml_skip(&ld->y);
		} else {
			seen[i] = true;
			first[i] = k.where;
			r = i == 0 ? load_version(ld) : load_policies(ld);
		}
		if (r)
			return -1;
	}
	if (r < 0)
		return -1;
	if (!seen[0])
		ERR(ld, VERSION, start,
		    "key 'version' is missing; the file starts with "
		    "'version: 1'");
	if (!seen[1])
		ERR(ld, DOCUMENT, start,
		    "key 'policies' is missing; the file defines its "
		    "policies under 'policies:'");
	return 0;
}

/* Stream: exactly one document. */
static void
load_stream(struct loader *ld)
{
	if (corsd_yaml_next(&ld->y))
		return;
	/* STREAM-START */
	if (corsd_yaml_next(&ld->y))
		return;
	if (ld->y.ev.type != YAML_DOCUMENT_START_EVENT) {
		struct corsd_pos start = {1, 1};

		ERR(ld, DOCUMENT, start,
		    "the file holds no document; expected 'version: 1' and "
		    "'policies:'");
		return;
	}
	if (corsd_yaml_next(&ld->y) || load_root(ld) || corsd_yaml_next(&ld->y))
		return;
	/* DOCUMENT-END */
	if (corsd_yaml_next(&ld->y))
		return;
	if (ld->y.ev.type == YAML_DOCUMENT_START_EVENT)
		ERR(ld, DOCUMENT, corsd_yaml_here(&ld->y),
		    "the file holds a second document; only one is allowed");
}

/* Stable insertion sort of this load's diagnostics into file order. */
static void
sort_diags(struct corsd_diags *d, size_t first)
{
	for (size_t i = first + 1; i < d->n; i++) {
		struct corsd_diag x = d->v[i];
		size_t j = i;

		while (j > first && (d->v[j - 1].line > x.line ||
				     (d->v[j - 1].line == x.line &&
				      d->v[j - 1].column > x.column))) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = x;
	}
}

static struct corsd_policy_set *
load(const char *buf, size_t len, struct corsd_diags *d, int *err)
{
	struct loader ld;
	unsigned errors = d->errors;
	size_t first = d->n; /* the first diagnostic of this load */

	memset(&ld, 0, sizeof(ld));
	if (len > LOAD_FILE_MAX) {
		corsd_diag_add(d, CORSD_SEV_ERROR, CORSD_RULE_LIMIT, 0, 0,
			       "the file is larger than %zu MiB",
			       LOAD_FILE_MAX >> 20);
		*err = -CORSD_EPOLICY;
		return NULL;
	}
	ld.set = calloc(1, sizeof(*ld.set));
	if (!ld.set || corsd_yaml_init(&ld.y, buf, len, d)) {
		free(ld.set);
		*err = -CORSD_ENOMEM;
		return NULL;
	}
	load_stream(&ld);
	corsd_yaml_release(&ld.y);
	sort_diags(d, first);
	if (ld.y.dropped) {
		/* A note, not a problem: take back the count it adds. */
		corsd_diag_add(d, CORSD_SEV_WARNING, CORSD_RULE_LIMIT, 0, 0,
			       "%u more problems are counted but not shown",
			       ld.y.dropped);
		d->warnings--;
	}
	if (ld.y.rc || d->errors != errors) {
		corsd_policy_set_free(ld.set);
		*err = ld.y.rc ? ld.y.rc : -CORSD_EPOLICY;
		return NULL;
	}
	*err = 0;
	return ld.set;
}

struct corsd_policy_set *
corsd_policy_set_load_buffer(const char *name, const char *buf, size_t len,
			     struct corsd_diags *diags, int *err)
{
	struct corsd_diags local;
	struct corsd_policy_set *set;
	int dummy;

	if (!err)
		err = &dummy;
	if (!buf && len) {
		*err = -CORSD_EINVAL;
		return NULL;
	}
	if (!diags) {
		corsd_diags_init(&local);
		diags = &local;
	}
	if (corsd_diags_set_file(diags, name)) {
		set = NULL;
		*err = -CORSD_ENOMEM;
	} else {
		set = load(buf ? buf : "", len, diags, err);
	}
	if (diags == &local)
		corsd_diags_release(&local);
	return set;
}

/*
 * Read all of @fd, at most LOAD_FILE_MAX + 1 bytes (enough to tell that a
 * file is too large without trusting st_size: it may grow, or be a pipe).
 */
static int
read_all(int fd, char **out, size_t *outlen, int *eno)
{
	struct stat st;
	size_t cap = 65536, len = 0;
	char *buf;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		cap = (size_t)st.st_size < LOAD_FILE_MAX
			      ? (size_t)st.st_size + 1
			      : LOAD_FILE_MAX + 1;
	buf = malloc(cap);
	if (!buf)
		return -CORSD_ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap * 2 > LOAD_FILE_MAX + 1
					      ? LOAD_FILE_MAX + 1
					      : cap * 2;
			char *nbuf;

			if (ncap == cap)
				break;
			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				free(buf);
				return -CORSD_ENOMEM;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*eno = errno;
			free(buf);
			return -CORSD_EIO;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

struct corsd_policy_set *
corsd_policy_set_load_file(const char *path, struct corsd_diags *diags,
			   int *err)
{
	struct corsd_policy_set *set;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc, dummy, eno = 0;

	if (!err)
		err = &dummy;
	if (!path) {
		*err = -CORSD_EINVAL;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		eno = errno;
		rc = -CORSD_EIO;
	} else {
		rc = read_all(fd, &buf, &len, &eno);
		close(fd);
	}
	if (rc) {
		char ebuf[128];

		/* The path is the operator's, not the file's: strlen is
		 * fine. */
		if (diags && corsd_diags_set_file(diags, path) == 0 &&
		    rc == -CORSD_EIO)
			corsd_diag_add(diags, CORSD_SEV_ERROR,
				       CORSD_RULE_DOCUMENT, 0, 0,
				       "cannot read '%s': %s",
				       corsd_quote(path, strlen(path)).s,
				       strerror_r(eno, ebuf, sizeof(ebuf)));
		*err = rc;
		return NULL;
	}
	set = corsd_policy_set_load_buffer(path, buf, len, diags, err);
	free(buf);
	return set;
}
