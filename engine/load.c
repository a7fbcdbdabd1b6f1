/*
 * load.c - policy file (YAML, or JSON since it is YAML) -> a validated
 * struct corsd_policy_set.
 *
 * Layer: engine.  Governed by DESIGN.md section 2 and the rule table in
 * tbl/rules.h.  Everything in the file is untrusted: the loader streams
 * libyaml events rather than building a document tree (so nothing grows
 * with nesting or alias expansion), bounds every size, and reports every
 * problem with its rule and 1-based line:column, going on past the first.
 * Any error fails the load; warnings alone do not.
 *
 * Choices the format leaves open, made here:
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
#include <stdarg.h>
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

#define LOAD_FILE_MAX	  ((size_t)64 << 20)
#define LOAD_SCALAR_MAX	  4096
#define LOAD_REGEX_MAX	  1024
#define LOAD_POLICIES_MAX 1000
#define LOAD_ORIGINS_MAX  1000000
/* The format itself is 4 levels deep; anything deeper is skipped anyway. */
#define LOAD_DEPTH_MAX 64
/* Diagnostics stored per severity and load; the rest are only counted. */
#define LOAD_STORED_MAX 1000
/* Bytes of a key kept for matching: longer keys match nothing. */
#define LOAD_KEY_KEEP (CORSD_POLICY_NAME_MAX + 1)

struct pos {
	uint32_t line;
	uint32_t col;
};

struct loader {
	yaml_parser_t parser;
	yaml_event_t ev; /* the current event, when have_ev */
	bool have_ev;
	bool bad;	/* the current node is already reported */
	bool stop;	/* no more events: syntax, nesting or memory */
	int rc;		/* -CORSD_ENOMEM once memory ran out */
	unsigned depth; /* collections open, the current one included */
	const char *buf;
	size_t len;
	struct corsd_diags *d;
	size_t first; /* the first diagnostic of this load */
	unsigned stored[CORSD_SEV_ERROR + 1];
	unsigned dropped;
	struct corsd_policy_set *set;
	size_t set_cap;
};

/* ---- messages --------------------------------------------------------- */

static uint32_t
clamp32(size_t v)
{
	return v >= UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* libyaml marks are 0-based; diagnostics are 1-based. */
static struct pos
at(yaml_mark_t m)
{
	struct pos p = {clamp32(m.line + 1), clamp32(m.column + 1)};

	return p;
}

static void report(struct loader *ld, enum corsd_severity sev,
		   enum corsd_rule rule, struct pos where, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void
report(struct loader *ld, enum corsd_severity sev, enum corsd_rule rule,
       struct pos where, const char *fmt, ...)
{
	char msg[CORSD_DIAG_MESSAGE_MAX];
	va_list ap;

	/* Past the cap a problem still counts, so the load still fails. */
	if (ld->stored[sev] >= LOAD_STORED_MAX) {
		if (sev == CORSD_SEV_ERROR)
			ld->d->errors++;
		else
			ld->d->warnings++;
		ld->dropped++;
		return;
	}
	ld->stored[sev]++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	corsd_diag_add(ld->d, sev, rule, where.line, where.col, "%s", msg);
}

#define ERR(ld, rule, where, ...) \
	report(ld, CORSD_SEV_ERROR, CORSD_RULE_##rule, where, __VA_ARGS__)
#define WARN(ld, rule, where, ...) \
	report(ld, CORSD_SEV_WARNING, CORSD_RULE_##rule, where, __VA_ARGS__)

/* ---- events ----------------------------------------------------------- */

enum stype {
	ST_STR,
	ST_NULL,
	ST_BOOL,
	ST_INT,
	ST_FLOAT,
};

static bool
is_core_float(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (corsd_ascii_eq(s + i, len - i, ".inf") ||
	    corsd_ascii_eq(s + i, len - i, ".Inf") ||
	    corsd_ascii_eq(s + i, len - i, ".INF"))
		return true;
	if (corsd_ascii_eq(s, len, ".nan") || corsd_ascii_eq(s, len, ".NaN") ||
	    corsd_ascii_eq(s, len, ".NAN"))
		return true;
	while (i < len && corsd_ascii_is_digit(s[i])) {
		i++;
		digits++;
	}
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && corsd_ascii_is_digit(s[i])) {
			i++;
			digits++;
		}
	}
	if (!digits)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t e;

		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		for (e = i; i < len && corsd_ascii_is_digit(s[i]); i++)
			;
		if (i == e)
			return false;
	}
	return i == len;
}

static bool
is_core_int(const char *s, size_t len)
{
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
		for (i = 2; i < len; i++)
			if (s[1] == 'o' ? s[i] < '0' || s[i] > '7'
					: !corsd_ascii_is_hex(s[i]))
				return false;
		return true;
	}
	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i == len)
		return false;
	for (; i < len; i++)
		if (!corsd_ascii_is_digit(s[i]))
			return false;
	return true;
}

/* The YAML 1.2 core schema type of the current scalar. */
static enum stype
scalar_type(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return ST_STR;
	if (len == 0 || corsd_ascii_eq(s, len, "~") ||
	    corsd_ascii_eq(s, len, "null") || corsd_ascii_eq(s, len, "Null") ||
	    corsd_ascii_eq(s, len, "NULL"))
		return ST_NULL;
	if (corsd_ascii_eq(s, len, "true") || corsd_ascii_eq(s, len, "True") ||
	    corsd_ascii_eq(s, len, "TRUE") || corsd_ascii_eq(s, len, "false") ||
	    corsd_ascii_eq(s, len, "False") || corsd_ascii_eq(s, len, "FALSE"))
		return ST_BOOL;
	if (is_core_int(s, len))
		return ST_INT;
	if (is_core_float(s, len))
		return ST_FLOAT;
	return ST_STR;
}

/* "a list", "a string", ...: what a node is, for type messages. */
static const char *
node_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_ALIAS_EVENT:
		return "an alias";
	case YAML_SCALAR_EVENT:
		switch (scalar_type(ev)) {
		case ST_NULL:
			return "empty (null)";
		case ST_BOOL:
			return "a boolean";
		case ST_INT:
		case ST_FLOAT:
			return "a number";
		case ST_STR:
			break;
		}
		return "a string";
	default:
		return "not a value";
	}
}

static const char *
sval(const struct loader *ld)
{
	return (const char *)ld->ev.data.scalar.value;
}

static size_t
slen(const struct loader *ld)
{
	return ld->ev.data.scalar.length;
}

static struct pos
here(const struct loader *ld)
{
	return at(ld->ev.start_mark);
}

/* Line and column of a byte offset: reader errors carry no mark. */
static struct pos
pos_of_offset(const char *buf, size_t len, size_t off)
{
	struct pos p = {1, 1};

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n' ||
		    (c == '\r' && (i + 1 == len || buf[i + 1] != '\n'))) {
			if (p.line < UINT32_MAX)
				p.line++;
			p.col = 1;
		} else if ((c & 0xc0) != 0x80 && p.col < UINT32_MAX) {
			/* Columns count characters, as libyaml's marks do. */
			p.col++;
		}
	}
	return p;
}

static void
syntax_error(struct loader *ld)
{
	yaml_parser_t *p = &ld->parser;
	const char *problem = p->problem ? p->problem : "malformed input";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		ld->rc = -CORSD_ENOMEM;
		break;
	case YAML_READER_ERROR:
		if (p->problem_value >= 0)
			ERR(ld, YAML_SYNTAX,
			    pos_of_offset(ld->buf, ld->len, p->problem_offset),
			    "%s (byte 0x%02x)", problem,
			    (unsigned)p->problem_value & 0xffu);
		else
			ERR(ld, YAML_SYNTAX,
			    pos_of_offset(ld->buf, ld->len, p->problem_offset),
			    "%s", problem);
		break;
	default:
		if (p->context)
			ERR(ld, YAML_SYNTAX, at(p->problem_mark),
			    "%s %s (from line %zu)", problem, p->context,
			    p->context_mark.line + 1);
		else
			ERR(ld, YAML_SYNTAX, at(p->problem_mark), "%s",
			    problem);
		break;
	}
}

/*
 * Checks that hold for every node wherever it sits, so that no handler
 * forgets one: size of scalars, nesting, anchors, aliases and tags.
 */
static void
check_event(struct loader *ld)
{
	const yaml_event_t *ev = &ld->ev;
	const yaml_char_t *anchor = NULL, *tag = NULL;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	case YAML_ALIAS_EVENT:
		ERR(ld, DOCUMENT, here(ld),
		    "alias is not supported; write the value out in full");
		ld->bad = true;
		return;
	default:
		return;
	}
	if (anchor)
		ERR(ld, DOCUMENT, here(ld),
		    "anchor is not supported; write the value out in full");
	if (tag) {
		ERR(ld, TYPE, here(ld),
		    "explicit tag is not supported; remove the tag");
		ld->bad = true;
	}
	if (ev->type == YAML_SCALAR_EVENT && !ld->bad &&
	    ev->data.scalar.length > LOAD_SCALAR_MAX) {
		ERR(ld, LIMIT, here(ld),
		    "value of %zu bytes is longer than the %d allowed",
		    ev->data.scalar.length, LOAD_SCALAR_MAX);
		ld->bad = true;
	}
}

/* Make the next event current.  Return: 0, or -1 when loading stops. */
static int
next(struct loader *ld)
{
	if (ld->have_ev) {
		yaml_event_delete(&ld->ev);
		ld->have_ev = false;
	}
	if (ld->stop)
		return -1;
	if (!yaml_parser_parse(&ld->parser, &ld->ev)) {
		syntax_error(ld);
		ld->stop = true;
		return -1;
	}
	ld->have_ev = true;
	ld->bad = false;
	switch (ld->ev.type) {
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		/* libyaml keeps state per open collection: bound it. */
		if (++ld->depth > LOAD_DEPTH_MAX) {
			ERR(ld, LIMIT, here(ld),
			    "nesting is deeper than %d levels", LOAD_DEPTH_MAX);
			ld->stop = true;
			return -1;
		}
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		ld->depth--;
		break;
	default:
		break;
	}
	check_event(ld);
	return 0;
}

static bool
is_start(const struct loader *ld)
{
	return ld->ev.type == YAML_SEQUENCE_START_EVENT ||
	       ld->ev.type == YAML_MAPPING_START_EVENT;
}

/* Consume the rest of the node whose first event is current. */
static int
skip_node(struct loader *ld)
{
	unsigned target;

	if (!is_start(ld))
		return 0;
	target = ld->depth - 1;
	do {
		if (next(ld))
			return -1;
	} while (ld->depth != target);
	return 0;
}

struct key {
	char s[LOAD_KEY_KEEP];
	size_t len; /* the key's real length, maybe > kept */
	struct pos where;
	bool ok; /* a scalar key; s holds min(len, kept) bytes */
};

static bool
key_is(const struct key *k, const char *lit)
{
	return k->ok && k->len <= sizeof(k->s) &&
	       corsd_ascii_eq(k->s, k->len, lit);
}

/*
 * Step to the next entry of the mapping being read: fills @k and makes the
 * value node current.  A key that is not a scalar is reported here and
 * comes back with ok false; the caller skips its value.
 * Return: 1 for an entry, 0 at the end of the mapping, -1 to stop.
 */
static int
next_key(struct loader *ld, struct key *k)
{
	if (next(ld))
		return -1;
	if (ld->ev.type == YAML_MAPPING_END_EVENT)
		return 0;
	memset(k, 0, sizeof(*k));
	k->where = here(ld);
	if (ld->ev.type == YAML_SCALAR_EVENT && !ld->bad) {
		k->ok = true;
		k->len = slen(ld);
		memcpy(k->s, sval(ld),
		       k->len < sizeof(k->s) ? k->len : sizeof(k->s));
	} else if (!ld->bad) {
		ERR(ld, TYPE, k->where, "key is %s; keys are plain names",
		    node_kind(&ld->ev));
	}
	if (skip_node(ld) || next(ld))
		return -1;
	return 1;
}

/* The key as bytes for a message (never more than was kept). */
static struct corsd_quoted
key_quote(const struct key *k)
{
	return corsd_quote(k->s, k->len < sizeof(k->s) ? k->len : sizeof(k->s));
}

/* ---- model building --------------------------------------------------- */

static char *
dup_bytes(struct loader *ld, const char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (!s) {
		ld->rc = -CORSD_ENOMEM;
		ld->stop = true;
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
		ld->rc = -CORSD_ENOMEM;
		ld->stop = true;
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
			ld->rc = -CORSD_ENOMEM;
			ld->stop = true;
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
	struct pos first[K__COUNT];
	struct pos any_at;    /* the first "*" origin */
	size_t other_entries; /* origin entries besides "*", valid or not */
	struct pos star_at[K__COUNT]; /* "*" of methods and header lists */
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
			ld->rc = -CORSD_ENOMEM;
			ld->stop = true;
			return -1;
		}
		p->origins = v;
	}
	p->origins[p->norigins++] = *o;
	return 0;
}

/* Line and column of an origin entry, kept in the model. */
static void
origin_at(struct corsd_origin_pattern *o, struct pos where)
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
	struct corsd_str in = {sval(ld), slen(ld)};
	struct pos where = here(ld);
	char msg[CORSD_DIAG_MESSAGE_MAX];
	enum corsd_rule rule = CORSD_RULE_ORIGIN_SYNTAX;
	int rc, dup;

	if (scalar_type(&ld->ev) == ST_NULL) {
		ps->other_entries++;
		ERR(ld, TYPE, where,
		    "origin in policy '%s' is empty (null); write \"null\", "
		    "quoted, for the opaque origin",
		    ps->name.s);
		return 0;
	}
	if (scalar_type(&ld->ev) != ST_STR) {
		ps->other_entries++;
		ERR(ld, TYPE, where,
		    "origin '%s' in policy '%s' is %s; expected a string",
		    corsd_quote(in.p, in.len).s, ps->name.s,
		    node_kind(&ld->ev));
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
		ld->rc = rc;
		ld->stop = true;
		return -1;
	}
	if (rc) {
		report(ld, CORSD_SEV_ERROR, rule, where, "%s", msg);
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
	if (dup < 0) {
		ld->rc = dup;
		ld->stop = true;
	}
	if (dup < 0 || origin_append(ld, p, &o)) {
		free(o.text);
		return -1;
	}
	return 0;
}

static int
load_origins(struct loader *ld, struct pstate *ps)
{
	struct pos start = here(ld);
	size_t count = 0;

	if (ld->bad)
		return skip_node(ld);
	if (ld->ev.type == YAML_SCALAR_EVENT &&
	    scalar_type(&ld->ev) == ST_NULL) {
		ERR(ld, ORIGINS_REQUIRED, start,
		    "'origins' of policy '%s' is empty; list the origins it "
		    "allows",
		    ps->name.s);
		return 0;
	}
	if (ld->ev.type != YAML_SEQUENCE_START_EVENT) {
		ERR(ld, TYPE, start,
		    "'origins' of policy '%s' is %s; expected a list of "
		    "origins",
		    ps->name.s, node_kind(&ld->ev));
		return skip_node(ld);
	}
	for (;;) {
		if (next(ld))
			return -1;
		if (ld->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (++count > LOAD_ORIGINS_MAX) {
			if (count == LOAD_ORIGINS_MAX + 1)
				ERR(ld, LIMIT, here(ld),
				    "policy '%s' has more than %d origins",
				    ps->name.s, LOAD_ORIGINS_MAX);
		} else if (ld->ev.type != YAML_SCALAR_EVENT) {
			ps->other_entries++;
			if (!ld->bad)
				ERR(ld, TYPE, here(ld),
				    "origin in policy '%s' is %s; expected "
				    "a string",
				    ps->name.s, node_kind(&ld->ev));
		} else if (ld->bad) {
			ps->other_entries++;
		} else if (load_origin(ld, ps)) {
			return -1;
		}
		if (skip_node(ld))
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
	       const struct corsd_name_list *l, struct pos where, bool *over)
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
	const char *s = sval(ld);
	size_t len = slen(ld);
	struct pos where = here(ld);
	bool method = which == K_METHODS;
	const char *what = method ? "method" : "header name";

	if (scalar_type(&ld->ev) != ST_STR) {
		ERR(ld, TYPE, where,
		    "%s '%s' in '%s' of policy '%s' is %s; expected a string",
		    what, corsd_quote(s, len).s, policy_keys[which], ps->name.s,
		    node_kind(&ld->ev));
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
		report(ld, CORSD_SEV_ERROR,
		       method ? CORSD_RULE_METHOD_SYNTAX
			      : CORSD_RULE_HEADER_SYNTAX,
		       where, "%s '%s' in policy '%s' is not an HTTP token",
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

	if (ld->bad)
		return skip_node(ld);
	if (ld->ev.type == YAML_SCALAR_EVENT &&
	    scalar_type(&ld->ev) == ST_STR &&
	    corsd_ascii_eq(sval(ld), slen(ld), "*")) {
		ps->star_at[which] = here(ld);
		l->wildcard = true;
		return 0;
	}
	if (ld->ev.type != YAML_SEQUENCE_START_EVENT) {
		ERR(ld, TYPE, here(ld),
		    "'%s' of policy '%s' is %s; expected a list or \"*\"",
		    policy_keys[which], ps->name.s, node_kind(&ld->ev));
		return skip_node(ld);
	}
	for (;;) {
		if (next(ld))
			return -1;
		if (ld->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (ld->ev.type != YAML_SCALAR_EVENT && !ld->bad)
			ERR(ld, TYPE, here(ld),
			    "element of '%s' in policy '%s' is %s; expected a "
			    "string",
			    policy_keys[which], ps->name.s, node_kind(&ld->ev));
		else if (ld->ev.type == YAML_SCALAR_EVENT && !ld->bad &&
			 load_name(ld, ps, which, l, &over))
			return -1;
		if (skip_node(ld))
			return -1;
	}
}

/* YAML 1.2 core booleans only: "yes", "on" or a quoted "true" are not. */
static int
load_bool(struct loader *ld, struct pstate *ps, enum pkey which, bool *out)
{
	if (ld->bad)
		return skip_node(ld);
	if (ld->ev.type == YAML_SCALAR_EVENT &&
	    scalar_type(&ld->ev) == ST_BOOL) {
		*out = sval(ld)[0] == 't' || sval(ld)[0] == 'T';
		return 0;
	}
	if (ld->ev.type == YAML_SCALAR_EVENT)
		ERR(ld, TYPE, here(ld),
		    "'%s' of policy '%s' is '%s' (%s); expected true or false, "
		    "unquoted",
		    policy_keys[which], ps->name.s,
		    corsd_quote(sval(ld), slen(ld)).s, node_kind(&ld->ev));
	else
		ERR(ld, TYPE, here(ld),
		    "'%s' of policy '%s' is %s; expected true or false",
		    policy_keys[which], ps->name.s, node_kind(&ld->ev));
	return skip_node(ld);
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

	if (ld->bad)
		return false;
	if (ld->ev.type != YAML_SCALAR_EVENT) {
		ERR(ld, TYPE, here(ld),
		    "'%s' of policy '%s' is %s; expected a whole number",
		    policy_keys[which], ps->name.s, node_kind(&ld->ev));
		return false;
	}
	s = sval(ld);
	len = slen(ld);
	if (scalar_type(&ld->ev) != ST_INT ||
	    (len > 1 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x'))) {
		ERR(ld, TYPE, here(ld),
		    "'%s' of policy '%s' is '%s' (%s); expected a whole number "
		    "in decimal, unquoted",
		    policy_keys[which], ps->name.s, corsd_quote(s, len).s,
		    node_kind(&ld->ev));
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
		return skip_node(ld);
	if (v < 0 || v > 86400) {
		ERR(ld, MAX_AGE_RANGE, here(ld),
		    "max_age %s of policy '%s' is out of range; allowed are 0 "
		    "to 86400 seconds",
		    corsd_quote(sval(ld), slen(ld)).s, ps->name.s);
		return 0;
	}
	if (v > 7200)
		WARN(ld, MAX_AGE_CAP, here(ld),
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
		return skip_node(ld);
	if (v != 200 && v != 204) {
		ERR(ld, PREFLIGHT_STATUS, here(ld),
		    "preflight_status %s of policy '%s' is neither 200 nor 204",
		    corsd_quote(sval(ld), slen(ld)).s, ps->name.s);
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
	if (ld->bad)
		return skip_node(ld);
	if (ld->ev.type != YAML_SCALAR_EVENT) {
		ERR(ld, TYPE, here(ld),
		    "'%s' of policy '%s' is %s; expected %s",
		    policy_keys[which], ps->name.s, node_kind(&ld->ev), expect);
		return skip_node(ld);
	}
	for (size_t i = 0; i < n; i++) {
		if (corsd_ascii_eq(sval(ld), slen(ld), words[i])) {
			*out = (int)i;
			return 0;
		}
	}
	ERR(ld, REJECT_BEHAVIOUR, here(ld), "%s '%s' of policy '%s' is not %s",
	    policy_keys[which], corsd_quote(sval(ld), slen(ld)).s, ps->name.s,
	    expect);
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
	return skip_node(ld);
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
finish_policy(struct loader *ld, struct pstate *ps, struct pos name_at)
{
	struct corsd_policy *p = ps->p;
	bool cred = p->credentials;

	if (!ps->seen[K_ORIGINS])
		ERR(ld, ORIGINS_REQUIRED, name_at,
		    "policy '%s' has no 'origins'; list the origins it allows",
		    ps->name.s);
	for (size_t i = 0; i < p->norigins; i++) {
		const struct corsd_origin_pattern *o = &p->origins[i];
		struct pos where = {o->line, o->column};
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
valid_policy_name(const struct key *k)
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
load_policy(struct loader *ld, const struct key *k)
{
	struct pstate ps;
	struct key pk;
	int r;
	bool valid = valid_policy_name(k);

	memset(&ps, 0, sizeof(ps));
	ps.name = key_quote(k);
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
			return skip_node(ld);
		}
	}
	if (ld->bad)
		return skip_node(ld);
	if (ld->ev.type != YAML_MAPPING_START_EVENT) {
		ERR(ld, TYPE, here(ld),
		    "policy '%s' is %s; expected a mapping with 'origins' and "
		    "its settings",
		    ps.name.s, node_kind(&ld->ev));
		return skip_node(ld);
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
	while ((r = next_key(ld, &pk)) > 0) {
		size_t i;

		for (i = 0; i < K__COUNT && !key_is(&pk, policy_keys[i]); i++)
			;
		if (!pk.ok) {
			/* reported by next_key() */
		} else if (i == K__COUNT) {
			struct corsd_quoted q = key_quote(&pk);
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
		if (skip_node(ld)) {
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
	struct pos start = here(ld);
	size_t count = 0;
	struct key k;
	int r;

	if (ld->bad)
		return skip_node(ld);
	if (ld->ev.type != YAML_MAPPING_START_EVENT) {
		if (ld->ev.type == YAML_SCALAR_EVENT &&
		    scalar_type(&ld->ev) == ST_NULL)
			ERR(ld, DOCUMENT, start,
			    "'policies' is empty; define at least one policy");
		else
			ERR(ld, DOCUMENT, start,
			    "'policies' is %s; expected a mapping of policy "
			    "names to policies",
			    node_kind(&ld->ev));
		return skip_node(ld);
	}
	while ((r = next_key(ld, &k)) > 0) {
		count++;
		if (!k.ok) {
			r = skip_node(ld);
		} else if (count > LOAD_POLICIES_MAX) {
			if (count == LOAD_POLICIES_MAX + 1)
				ERR(ld, LIMIT, k.where,
				    "the file defines more than %d policies",
				    LOAD_POLICIES_MAX);
			r = skip_node(ld);
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
	if (ld->bad)
		return skip_node(ld);
	if (ld->ev.type != YAML_SCALAR_EVENT) {
		ERR(ld, VERSION, here(ld),
		    "'version' is %s; expected the integer 1",
		    node_kind(&ld->ev));
		return skip_node(ld);
	}
	if (scalar_type(&ld->ev) != ST_INT ||
	    !corsd_ascii_eq(sval(ld), slen(ld), "1"))
		ERR(ld, VERSION, here(ld),
		    "unsupported version '%s' (%s); this corsd reads "
		    "'version: 1'",
		    corsd_quote(sval(ld), slen(ld)).s, node_kind(&ld->ev));
	return 0;
}

static int
load_root(struct loader *ld)
{
	struct pos start = here(ld), first[2] = {{0, 0}, {0, 0}};
	bool seen[2] = {false, false};
	struct key k;
	int r;

	if (ld->bad)
		return skip_node(ld);
	if (ld->ev.type != YAML_MAPPING_START_EVENT) {
		ERR(ld, DOCUMENT, start,
		    "the document is %s; expected a mapping with 'version' "
		    "and 'policies'",
		    node_kind(&ld->ev));
		return skip_node(ld);
	}
	while ((r = next_key(ld, &k)) > 0) {
		size_t i;

		for (i = 0; i < 2 && !key_is(&k, top_keys[i]); i++)
			;
		if (!k.ok) {
			r = skip_node(ld);
		} else if (i == 2) {
			struct corsd_quoted q = key_quote(&k);
			const char *hint =
				corsd_did_you_mean(k.s, k.len, top_keys, 2);
			size_t j;

			for (j = 0; j < K__COUNT && !key_is(&k, policy_keys[j]);
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
			r = skip_node(ld);
		} else if (seen[i]) {
			ERR(ld, DUPLICATE_KEY, k.where,
			    "duplicate key '%s'; the first is on line %u",
			    top_keys[i], first[i].line);
			r = skip_node(ld);
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
	if (next(ld))
		return;
	/* STREAM-START */
	if (next(ld))
		return;
	if (ld->ev.type != YAML_DOCUMENT_START_EVENT) {
		struct pos start = {1, 1};

		ERR(ld, DOCUMENT, start,
		    "the file holds no document; expected 'version: 1' and "
		    "'policies:'");
		return;
	}
	if (next(ld) || load_root(ld) || next(ld))
		return;
	/* DOCUMENT-END */
	if (next(ld))
		return;
	if (ld->ev.type == YAML_DOCUMENT_START_EVENT)
		ERR(ld, DOCUMENT, here(ld),
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

	memset(&ld, 0, sizeof(ld));
	ld.d = d;
	ld.first = d->n;
	ld.buf = buf;
	ld.len = len;
	if (len > LOAD_FILE_MAX) {
		struct pos none = {0, 0};

		ERR(&ld, LIMIT, none, "the file is larger than %zu MiB",
		    LOAD_FILE_MAX >> 20);
		*err = -CORSD_EPOLICY;
		return NULL;
	}
	ld.set = calloc(1, sizeof(*ld.set));
	if (!ld.set || !yaml_parser_initialize(&ld.parser)) {
		free(ld.set);
		*err = -CORSD_ENOMEM;
		return NULL;
	}
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)buf,
				     len);
	load_stream(&ld);
	if (ld.have_ev)
		yaml_event_delete(&ld.ev);
	yaml_parser_delete(&ld.parser);
	sort_diags(d, ld.first);
	if (ld.dropped) {
		/* A note, not a problem: take back the count it adds. */
		struct pos none = {0, 0};

		corsd_diag_add(d, CORSD_SEV_WARNING, CORSD_RULE_LIMIT,
			       none.line, none.col,
			       "%u more problems are counted but not shown",
			       ld.dropped);
		d->warnings--;
	}
	if (ld.rc || d->errors != errors) {
		corsd_policy_set_free(ld.set);
		*err = ld.rc ? ld.rc : -CORSD_EPOLICY;
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
