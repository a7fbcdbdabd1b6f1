/*
 * yaml_cursor_int.h - a cursor over libyaml's event stream, for loaders.
 *
 * Layer: engine, internal; used by the policy rules (load.c) and knowing
 * nothing of them.  The rule: the input is untrusted.  One event is
 * current at a time; corsd_yaml_next() checks every node wherever it
 * stands (scalar size, nesting depth, anchors, aliases, tags), so no
 * handler can forget one, and reports problems with 1-based line:column.
 * A node already reported comes back with @bad set: handlers skip it
 * without a second message.  After a syntax error, too deep a nesting or
 * a failed allocation the cursor has stopped: every step returns -1.
 *
 * Reports go through corsd_yaml_report(), which stores at most
 * CORSD_YAML_STORED_MAX diagnostics per severity and only counts the rest
 * (@dropped), so a hostile file cannot grow the list without bound and
 * still fails its load.
 */
#ifndef CORSD_YAML_CURSOR_INT_H
#define CORSD_YAML_CURSOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "ascii_int.h"
#include "corsd_engine.h"
#include "diag_int.h"

/* Bytes of one scalar. */
#define CORSD_YAML_SCALAR_MAX 4096
/* Collections open at once; the policy format itself is 4 deep. */
#define CORSD_YAML_DEPTH_MAX 64
/* Diagnostics stored per severity and cursor; the rest are only counted. */
#define CORSD_YAML_STORED_MAX 1000
/* Bytes of a key kept for matching: the longest key any loader compares
 * is a policy name; a longer key is kept cut and matches nothing. */
#define CORSD_YAML_KEY_KEEP (CORSD_POLICY_NAME_MAX + 1)

/* A 1-based position in the file; 0:0 for the whole file. */
struct corsd_pos {
	uint32_t line;
	uint32_t col;
};

struct corsd_yaml {
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
	unsigned stored[CORSD_SEV_ERROR + 1];
	unsigned dropped; /* reports counted but not stored */
};

/* The YAML 1.2 core schema type of a scalar; quoted ones are strings. */
enum corsd_yaml_type {
	CORSD_YAML_STR,
	CORSD_YAML_NULL,
	CORSD_YAML_BOOL,
	CORSD_YAML_INT,
	CORSD_YAML_FLOAT,
};

/* One key of a mapping, read by corsd_yaml_next_key(). */
struct corsd_yaml_key {
	char s[CORSD_YAML_KEY_KEEP];
	size_t len; /* the key's real length, maybe > kept */
	struct corsd_pos where;
	bool ok; /* a scalar key; s holds min(len, kept) bytes */
};

/* Read @buf (not copied: it must outlive the cursor), reporting to @d.
 * Return: 0, or -CORSD_ENOMEM. */
int corsd_yaml_init(struct corsd_yaml *y, const char *buf, size_t len,
		    struct corsd_diags *d);
void corsd_yaml_release(struct corsd_yaml *y);

/* Make the next event current.  Return: 0, or -1 once the cursor stops. */
int corsd_yaml_next(struct corsd_yaml *y);

/* Consume the rest of the node whose first event is current (nothing for
 * a scalar).  Return: 0, or -1 once the cursor stops. */
int corsd_yaml_skip(struct corsd_yaml *y);

/*
 * corsd_yaml_next_key() - step to the next entry of the mapping being
 * read: fill @k and make the value node current.  A key that is not a
 * scalar is reported here and comes back with ok false; the caller skips
 * its value.
 * Return: 1 for an entry, 0 at the end of the mapping, -1 to stop.
 */
int corsd_yaml_next_key(struct corsd_yaml *y, struct corsd_yaml_key *k);

/* Stop reading: every further step fails and @rc is the load's result. */
void corsd_yaml_stop(struct corsd_yaml *y, int rc);

/* Report a problem at @where; printf-style, see STYLE.md for the words. */
void corsd_yaml_report(struct corsd_yaml *y, enum corsd_severity sev,
		       enum corsd_rule rule, struct corsd_pos where,
		       const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Where the current event starts. */
struct corsd_pos corsd_yaml_here(const struct corsd_yaml *y);

/* The core schema type of the current event, a scalar. */
enum corsd_yaml_type corsd_yaml_scalar_type(const struct corsd_yaml *y);

/* "a list", "a string", "empty (null)"...: what the current node is, for
 * type messages. */
const char *corsd_yaml_node_kind(const struct corsd_yaml *y);

/* The current event's scalar bytes (not NUL-safe: use the length). */
static inline const char *
corsd_yaml_sval(const struct corsd_yaml *y)
{
	return (const char *)y->ev.data.scalar.value;
}

static inline size_t
corsd_yaml_slen(const struct corsd_yaml *y)
{
	return y->ev.data.scalar.length;
}

/* Is @k the key @lit, byte for byte? */
static inline bool
corsd_yaml_key_is(const struct corsd_yaml_key *k, const char *lit)
{
	return k->ok && k->len <= sizeof(k->s) &&
	       corsd_ascii_eq(k->s, k->len, lit);
}

/* The key as bytes for a message (never more than was kept). */
struct corsd_quoted corsd_yaml_key_quote(const struct corsd_yaml_key *k);

#endif /* CORSD_YAML_CURSOR_INT_H */
