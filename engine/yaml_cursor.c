/*
 * yaml_cursor.c - a cursor over libyaml's event stream: one current event,
 * the checks every node gets, and reports capped per load.
 *
 * Layer: engine, below the policy rules (load.c), which it knows nothing
 * of.  The rule: everything in the file is untrusted.  The cursor streams
 * events rather than building a document tree (so nothing grows with
 * nesting or alias expansion), bounds scalar size and nesting depth,
 * refuses anchors, aliases and tags wherever they stand, and turns every
 * libyaml error into a diagnostic with a 1-based line:column.  Once it
 * stops (syntax, nesting, memory) every further step fails, so callers
 * only unwind.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ascii_int.h"
#include "diag_int.h"
#include "yaml_cursor_int.h"

#define ERR(y, rule, where, ...)                                        \
	corsd_yaml_report(y, CORSD_SEV_ERROR, CORSD_RULE_##rule, where, \
			  __VA_ARGS__)

static uint32_t
clamp32(size_t v)
{
	return v >= UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* libyaml marks are 0-based; diagnostics are 1-based. */
static struct corsd_pos
at(yaml_mark_t m)
{
	struct corsd_pos p = {clamp32(m.line + 1), clamp32(m.column + 1)};

	return p;
}

struct corsd_pos
corsd_yaml_here(const struct corsd_yaml *y)
{
	return at(y->ev.start_mark);
}

void
corsd_yaml_report(struct corsd_yaml *y, enum corsd_severity sev,
		  enum corsd_rule rule, struct corsd_pos where, const char *fmt,
		  ...)
{
	char msg[CORSD_DIAG_MESSAGE_MAX];
	va_list ap;

	/* Past the cap a problem still counts, so the load still fails. */
	if (y->stored[sev] >= CORSD_YAML_STORED_MAX) {
		if (sev == CORSD_SEV_ERROR)
			y->d->errors++;
		else
			y->d->warnings++;
		y->dropped++;
		return;
	}
	y->stored[sev]++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	corsd_diag_add(y->d, sev, rule, where.line, where.col, "%s", msg);
}

/* ---- the YAML 1.2 core schema ------------------------------------------ */

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

static enum corsd_yaml_type
event_scalar_type(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return CORSD_YAML_STR;
	if (len == 0 || corsd_ascii_eq(s, len, "~") ||
	    corsd_ascii_eq(s, len, "null") || corsd_ascii_eq(s, len, "Null") ||
	    corsd_ascii_eq(s, len, "NULL"))
		return CORSD_YAML_NULL;
	if (corsd_ascii_eq(s, len, "true") || corsd_ascii_eq(s, len, "True") ||
	    corsd_ascii_eq(s, len, "TRUE") || corsd_ascii_eq(s, len, "false") ||
	    corsd_ascii_eq(s, len, "False") || corsd_ascii_eq(s, len, "FALSE"))
		return CORSD_YAML_BOOL;
	if (is_core_int(s, len))
		return CORSD_YAML_INT;
	if (is_core_float(s, len))
		return CORSD_YAML_FLOAT;
	return CORSD_YAML_STR;
}

static const char *
event_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_ALIAS_EVENT:
		return "an alias";
	case YAML_SCALAR_EVENT:
		switch (event_scalar_type(ev)) {
		case CORSD_YAML_NULL:
			return "empty (null)";
		case CORSD_YAML_BOOL:
			return "a boolean";
		case CORSD_YAML_INT:
		case CORSD_YAML_FLOAT:
			return "a number";
		case CORSD_YAML_STR:
			break;
		}
		return "a string";
	default:
		return "not a value";
	}
}

/* ---- events ----------------------------------------------------------- */

/* Line and column of a byte offset: reader errors carry no mark. */
static struct corsd_pos
pos_of_offset(const char *buf, size_t len, size_t off)
{
	struct corsd_pos p = {1, 1};

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
syntax_error(struct corsd_yaml *y)
{
	yaml_parser_t *p = &y->parser;
	const char *problem = p->problem ? p->problem : "malformed input";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		y->rc = -CORSD_ENOMEM;
		break;
	case YAML_READER_ERROR:
		if (p->problem_value >= 0)
			ERR(y, YAML_SYNTAX,
			    pos_of_offset(y->buf, y->len, p->problem_offset),
			    "%s (byte 0x%02x)", problem,
			    (unsigned)p->problem_value & 0xffu);
		else
			ERR(y, YAML_SYNTAX,
			    pos_of_offset(y->buf, y->len, p->problem_offset),
			    "%s", problem);
		break;
	default:
		if (p->context)
			ERR(y, YAML_SYNTAX, at(p->problem_mark),
			    "%s %s (from line %zu)", problem, p->context,
			    p->context_mark.line + 1);
		else
			ERR(y, YAML_SYNTAX, at(p->problem_mark), "%s", problem);
		break;
	}
}

/*
 * Checks that hold for every node wherever it sits, so that no handler
 * forgets one: size of scalars, nesting, anchors, aliases and tags.
 */
static void
check_event(struct corsd_yaml *y)
{
	const yaml_event_t *ev = &y->ev;
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
		ERR(y, DOCUMENT, corsd_yaml_here(y),
		    "alias is not supported; write the value out in full");
		y->bad = true;
		return;
	default:
		return;
	}
	if (anchor)
		ERR(y, DOCUMENT, corsd_yaml_here(y),
		    "anchor is not supported; write the value out in full");
	if (tag) {
		ERR(y, TYPE, corsd_yaml_here(y),
		    "explicit tag is not supported; remove the tag");
		y->bad = true;
	}
	if (ev->type == YAML_SCALAR_EVENT && !y->bad &&
	    ev->data.scalar.length > CORSD_YAML_SCALAR_MAX) {
		ERR(y, LIMIT, corsd_yaml_here(y),
		    "value of %zu bytes is longer than the %d allowed",
		    ev->data.scalar.length, CORSD_YAML_SCALAR_MAX);
		y->bad = true;
	}
}

int
corsd_yaml_next(struct corsd_yaml *y)
{
	if (y->have_ev) {
		yaml_event_delete(&y->ev);
		y->have_ev = false;
	}
	if (y->stop)
		return -1;
	if (!yaml_parser_parse(&y->parser, &y->ev)) {
		syntax_error(y);
		y->stop = true;
		return -1;
	}
	y->have_ev = true;
	y->bad = false;
	switch (y->ev.type) {
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		/* libyaml keeps state per open collection: bound it. */
		if (++y->depth > CORSD_YAML_DEPTH_MAX) {
			ERR(y, LIMIT, corsd_yaml_here(y),
			    "nesting is deeper than %d levels",
			    CORSD_YAML_DEPTH_MAX);
			y->stop = true;
			return -1;
		}
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		y->depth--;
		break;
	default:
		break;
	}
	check_event(y);
	return 0;
}

static bool
is_start(const struct corsd_yaml *y)
{
	return y->ev.type == YAML_SEQUENCE_START_EVENT ||
	       y->ev.type == YAML_MAPPING_START_EVENT;
}

int
corsd_yaml_skip(struct corsd_yaml *y)
{
	unsigned target;

	if (!is_start(y))
		return 0;
	target = y->depth - 1;
	do {
		if (corsd_yaml_next(y))
			return -1;
	} while (y->depth != target);
	return 0;
}

int
corsd_yaml_next_key(struct corsd_yaml *y, struct corsd_yaml_key *k)
{
	if (corsd_yaml_next(y))
		return -1;
	if (y->ev.type == YAML_MAPPING_END_EVENT)
		return 0;
	memset(k, 0, sizeof(*k));
	k->where = corsd_yaml_here(y);
	if (y->ev.type == YAML_SCALAR_EVENT && !y->bad) {
		k->ok = true;
		k->len = corsd_yaml_slen(y);
		memcpy(k->s, corsd_yaml_sval(y),
		       k->len < sizeof(k->s) ? k->len : sizeof(k->s));
	} else if (!y->bad) {
		ERR(y, TYPE, k->where, "key is %s; keys are plain names",
		    event_kind(&y->ev));
	}
	if (corsd_yaml_skip(y) || corsd_yaml_next(y))
		return -1;
	return 1;
}

struct corsd_quoted
corsd_yaml_key_quote(const struct corsd_yaml_key *k)
{
	return corsd_quote(k->s, k->len < sizeof(k->s) ? k->len : sizeof(k->s));
}

int
corsd_yaml_init(struct corsd_yaml *y, const char *buf, size_t len,
		struct corsd_diags *d)
{
	memset(y, 0, sizeof(*y));
	y->buf = buf;
	y->len = len;
	y->d = d;
	if (!yaml_parser_initialize(&y->parser))
		return -CORSD_ENOMEM;
	yaml_parser_set_input_string(&y->parser, (const unsigned char *)buf,
				     len);
	return 0;
}

void
corsd_yaml_release(struct corsd_yaml *y)
{
	if (y->have_ev)
		yaml_event_delete(&y->ev);
	y->have_ev = false;
	yaml_parser_delete(&y->parser);
}

void
corsd_yaml_stop(struct corsd_yaml *y, int rc)
{
	y->rc = rc;
	y->stop = true;
}

enum corsd_yaml_type
corsd_yaml_scalar_type(const struct corsd_yaml *y)
{
	return event_scalar_type(&y->ev);
}

const char *
corsd_yaml_node_kind(const struct corsd_yaml *y)
{
	return event_kind(&y->ev);
}
