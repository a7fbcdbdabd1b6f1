/*
 * batch.c - corsctl decide --batch: one JSON request per line, one JSON
 * answer per line.
 *
 * Layer: tools/corsctl.  Every line is untrusted input: it is read into a
 * fixed buffer of CORSCTL_LINE_MAX bytes (a longer line is skipped to its
 * end, never stored), parsed with libyaml (JSON is YAML, and libyaml is
 * already what the engine loads policies with) and checked strictly, so
 * that a typo in a key is an error and never a silently absent header.
 * A bad line is answered with {"error":...} and the batch goes on.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "batch_int.h"
#include "json_int.h"

/* Room for error messages; keys quoted in them are cut to KEY_QUOTE_MAX. */
#define ERR_MAX	      256
#define KEY_QUOTE_MAX 64

/* A request string copied out of a libyaml event (which owns its bytes
 * only until the event is deleted).  Reused from line to line. */
struct field {
	char *p;
	size_t len;
	size_t cap;
	bool present;
};

enum key { K_POLICY, K_ORIGIN, K_METHOD, K_ACRM, K_ACRH, K_ACRPN, K__COUNT };

static const char *const key_names[K__COUNT] = {
	[K_POLICY] = "policy", [K_ORIGIN] = "origin", [K_METHOD] = "method",
	[K_ACRM] = "acrm",     [K_ACRH] = "acrh",     [K_ACRPN] = "acrpn",
};

struct line_req {
	struct field f[K__COUNT]; /* K_ACRPN unused: it is a boolean */
	bool acrpn;
};

struct parse {
	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_ev;
	char err[ERR_MAX];
};

static void
fail(struct parse *ps, const char *fmt, const char *quoted, size_t qlen)
{
	char q[KEY_QUOTE_MAX + 1];

	/* The quoted key came from the line: cut it short.  Its bytes are
	 * escaped when the message is written as JSON. */
	if (qlen > KEY_QUOTE_MAX)
		qlen = KEY_QUOTE_MAX;
	if (quoted)
		memcpy(q, quoted, qlen);
	q[quoted ? qlen : 0] = '\0';
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(ps->err, sizeof(ps->err), fmt, q);
#pragma GCC diagnostic pop
}

/* Next event into ps->ev; false with ps->err set when the line is not
 * well-formed or uses YAML that JSON does not have. */
static bool
next(struct parse *ps)
{
	const yaml_event_t *e = &ps->ev;
	bool extra = false;

	if (ps->have_ev) {
		yaml_event_delete(&ps->ev);
		ps->have_ev = false;
	}
	if (!yaml_parser_parse(&ps->parser, &ps->ev)) {
		const char *what =
			ps->parser.problem ? ps->parser.problem : "error";

		/* libyaml puts the end of input on a line of its own. */
		if (ps->parser.problem_mark.line > 0)
			snprintf(ps->err, sizeof(ps->err),
				 "malformed JSON: %s at the end of the line",
				 what);
		else
			snprintf(ps->err, sizeof(ps->err),
				 "malformed JSON: %s at column %lu", what,
				 (unsigned long)ps->parser.problem_mark.column +
					 1);
		return false;
	}
	ps->have_ev = true;
	switch (e->type) {
	case YAML_ALIAS_EVENT:
		extra = true;
		break;
	case YAML_SCALAR_EVENT:
		extra = e->data.scalar.anchor || e->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		extra = e->data.sequence_start.anchor ||
			e->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		extra = e->data.mapping_start.anchor ||
			e->data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (extra) {
		snprintf(ps->err, sizeof(ps->err),
			 "malformed JSON: YAML anchors, aliases and tags are "
			 "not JSON");
		return false;
	}
	return true;
}

static bool
grow(struct field *f, size_t need)
{
	size_t cap = f->cap ? f->cap : 64;
	char *p;

	if (need <= f->cap)
		return true;
	while (cap < need)
		cap *= 2;
	p = realloc(f->p, cap);
	if (!p)
		return false;
	f->p = p;
	f->cap = cap;
	return true;
}

/* Append @len bytes, after a ',' when @sep and the field is not empty. */
static bool
field_add(struct field *f, const unsigned char *p, size_t len, bool sep)
{
	size_t extra = sep && f->len ? 1 : 0;

	if (!grow(f, f->len + extra + len + 1))
		return false;
	if (extra)
		f->p[f->len++] = ',';
	memcpy(f->p + f->len, p, len);
	f->len += len;
	f->present = true;
	return true;
}

static bool
is_dq_scalar(const yaml_event_t *e)
{
	return e->type == YAML_SCALAR_EVENT &&
	       e->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

static bool
is_plain(const yaml_event_t *e, const char *word)
{
	size_t n = strlen(word);

	return e->type == YAML_SCALAR_EVENT &&
	       e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       e->data.scalar.length == n &&
	       memcmp(e->data.scalar.value, word, n) == 0;
}

/* The value of "acrh": a string, or an array of strings joined with ','
 * as several header lines would be ([] is no header at all). */
static bool
parse_acrh(struct parse *ps, struct field *f)
{
	const yaml_event_t *e = &ps->ev;

	if (is_dq_scalar(e)) {
		if (!field_add(f, e->data.scalar.value, e->data.scalar.length,
			       false))
			goto nomem;
		return true;
	}
	if (e->type != YAML_SEQUENCE_START_EVENT) {
		fail(ps, "'acrh' must be a string, an array of strings or null",
		     NULL, 0);
		return false;
	}
	for (;;) {
		if (!next(ps))
			return false;
		if (e->type == YAML_SEQUENCE_END_EVENT)
			return true;
		if (!is_dq_scalar(e)) {
			fail(ps,
			     "'acrh' must be a string, an array of strings "
			     "or null",
			     NULL, 0);
			return false;
		}
		if (!field_add(f, e->data.scalar.value, e->data.scalar.length,
			       true))
			goto nomem;
	}
nomem:
	fail(ps, "out of memory", NULL, 0);
	return false;
}

static bool
parse_value(struct parse *ps, enum key k, struct line_req *r)
{
	const yaml_event_t *e = &ps->ev;

	if (!next(ps))
		return false;
	/* null is the same as leaving the key out: header absent. */
	if (is_plain(e, "null"))
		return true;
	switch (k) {
	case K_ACRPN:
		if (is_plain(e, "true") || is_plain(e, "false")) {
			r->acrpn = is_plain(e, "true");
			return true;
		}
		fail(ps, "'acrpn' must be true, false or null", NULL, 0);
		return false;
	case K_ACRH:
		return parse_acrh(ps, &r->f[k]);
	default:
		if (!is_dq_scalar(e)) {
			fail(ps, "'%s' must be a string or null", key_names[k],
			     strlen(key_names[k]));
			return false;
		}
		if (!field_add(&r->f[k], e->data.scalar.value,
			       e->data.scalar.length, false)) {
			fail(ps, "out of memory", NULL, 0);
			return false;
		}
		return true;
	}
}

static bool
parse_object(struct parse *ps, struct line_req *r)
{
	const yaml_event_t *e = &ps->ev;
	bool seen[K__COUNT] = {false};

	if (!next(ps) || !next(ps)) /* stream start, document start */
		return false;
	if (!next(ps))
		return false;
	if (e->type != YAML_MAPPING_START_EVENT ||
	    e->data.mapping_start.style != YAML_FLOW_MAPPING_STYLE) {
		fail(ps, "not a JSON object", NULL, 0);
		return false;
	}
	for (;;) {
		const char *key;
		size_t klen;
		int k;

		if (!next(ps))
			return false;
		if (e->type == YAML_MAPPING_END_EVENT)
			break;
		if (!is_dq_scalar(e)) {
			fail(ps,
			     "malformed JSON: an object key is not a string",
			     NULL, 0);
			return false;
		}
		key = (const char *)e->data.scalar.value;
		klen = e->data.scalar.length;
		for (k = 0; k < K__COUNT; k++)
			if (strlen(key_names[k]) == klen &&
			    memcmp(key_names[k], key, klen) == 0)
				break;
		if (k == K__COUNT) {
			fail(ps,
			     "unknown key '%s'; a request has policy, origin, "
			     "method, acrm, acrh and acrpn",
			     key, klen);
			return false;
		}
		if (seen[k]) {
			fail(ps, "duplicate key '%s'", key, klen);
			return false;
		}
		seen[k] = true;
		if (!parse_value(ps, (enum key)k, r))
			return false;
	}
	/* Document end, then stream end: anything after the object was
	 * already refused by the parser as a second value. */
	if (!next(ps) || !next(ps))
		return false;
	if (e->type != YAML_STREAM_END_EVENT) {
		fail(ps, "malformed JSON: more than one value on the line",
		     NULL, 0);
		return false;
	}
	return true;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Parse one non-blank line into @r.  Return: true, or false with the
 * reason in @err.
 */
static bool
parse_line(const char *buf, size_t len, struct line_req *r, char *err,
	   size_t errsize)
{
	struct parse ps;
	size_t a = 0, z = len;
	bool ok;

	for (int k = 0; k < K__COUNT; k++) {
		r->f[k].len = 0;
		r->f[k].present = false;
	}
	r->acrpn = false;

	/* libyaml would also take block mappings, directives and comments:
	 * a JSON object line starts with '{' (checked here) and ends with
	 * '}' (checked after parsing, so that a line cut short gets
	 * libyaml's more precise complaint). */
	while (a < z && is_space(buf[a]))
		a++;
	while (z > a && is_space(buf[z - 1]))
		z--;
	if (buf[a] != '{') {
		snprintf(err, errsize, "not a JSON object");
		return false;
	}

	memset(&ps, 0, sizeof(ps));
	if (!yaml_parser_initialize(&ps.parser)) {
		snprintf(err, errsize, "out of memory");
		return false;
	}
	yaml_parser_set_input_string(&ps.parser, (const unsigned char *)buf,
				     len);
	yaml_parser_set_encoding(&ps.parser, YAML_UTF8_ENCODING);
	ok = parse_object(&ps, r);
	if (ps.have_ev)
		yaml_event_delete(&ps.ev);
	yaml_parser_delete(&ps.parser);
	if (!ok)
		snprintf(err, errsize, "%s", ps.err);
	else if (buf[z - 1] != '}')
		snprintf(err, errsize, "malformed JSON: text after the object");
	return ok && buf[z - 1] == '}';
}

static struct corsd_str
str_of(const struct field *f)
{
	struct corsd_str s = {NULL, 0};

	if (f->present) {
		/* Present but empty still needs a non-NULL pointer. */
		s.p = f->p ? f->p : "";
		s.len = f->len;
	}
	return s;
}

/*
 * Read one line into @buf (CORSCTL_LINE_MAX + 1 bytes, room for a CR).
 * Return: 1 with *len and *too_long set, 0 at end of input, -1 on a read
 * error.
 */
static int
read_line(FILE *in, char *buf, size_t *len, bool *too_long)
{
	size_t n = 0;
	bool any = false;
	int c;

	*too_long = false;
	while ((c = getc_unlocked(in)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (n < CORSCTL_LINE_MAX + 1)
			buf[n++] = (char)c;
		else
			*too_long =
				true; /* drain to the newline, keep nothing */
	}
	if (ferror(in))
		return -1;
	if (!any)
		return 0;
	if (!*too_long && n && buf[n - 1] == '\r')
		n--;
	if (n > CORSCTL_LINE_MAX)
		*too_long = true;
	*len = n;
	return 1;
}

static bool
is_blank(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_space(buf[i]))
			return false;
	return true;
}

long
corsctl_batch_run(const struct corsctl_batch *b, FILE *in, FILE *out)
{
	char *buf = malloc(CORSCTL_LINE_MAX + 1);
	struct corsd_answer *ans = malloc(sizeof(*ans));
	struct line_req r;
	unsigned long lineno = 0;
	long errors = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	if (!buf || !ans) {
		errno = ENOMEM;
		errors = -1;
		goto out;
	}
	for (;;) {
		struct corsd_request req;
		char err[ERR_MAX];
		size_t len = 0, skip = 0;
		bool too_long;

		rc = read_line(in, buf, &len, &too_long);
		if (rc < 0) {
			errors = -1;
			break;
		}
		if (rc == 0)
			break;
		lineno++;
		if (too_long) {
			snprintf(err, sizeof(err), "longer than %u bytes",
				 (unsigned)CORSCTL_LINE_MAX);
			corsctl_json_error(out, lineno, err);
			errors++;
			goto next;
		}
		/* A UTF-8 byte order mark may open the file. */
		if (lineno == 1 && len >= 3 &&
		    memcmp(buf, "\xef\xbb\xbf", 3) == 0)
			skip = 3;
		if (is_blank(buf + skip, len - skip))
			continue;
		if (!parse_line(buf + skip, len - skip, &r, err, sizeof(err))) {
			corsctl_json_error(out, lineno, err);
			errors++;
			goto next;
		}
		req.policy = str_of(&r.f[K_POLICY]);
		if (!req.policy.p)
			req.policy = b->default_policy;
		if (!req.policy.p) {
			snprintf(err, sizeof(err),
				 "no \"policy\" and no -p, and the file does "
				 "not have exactly one policy (%s)",
				 b->policy_names);
			corsctl_json_error(out, lineno, err);
			errors++;
			goto next;
		}
		req.method = str_of(&r.f[K_METHOD]);
		if (!req.method.p) {
			req.method.p = "GET";
			req.method.len = 3;
		}
		req.origin = str_of(&r.f[K_ORIGIN]);
		req.acrm = str_of(&r.f[K_ACRM]);
		req.acrh = str_of(&r.f[K_ACRH]);
		req.acrpn.p = r.acrpn ? "true" : NULL;
		req.acrpn.len = r.acrpn ? 4 : 0;
		b->decide(b->ctx, &req, ans);
		corsctl_json_answer(out, ans);
	next:
		if (b->flush_each)
			fflush(out);
	}
out:
	for (int k = 0; k < K__COUNT; k++)
		free(r.f[k].p);
	free(ans);
	free(buf);
	return errors;
}
