/*
 * batch.c - corsctl decide --batch: one JSON request per line, one JSON
 * answer per line.
 *
 * Layer: tools/corsctl.  Every line is untrusted input: it is read into a
 * buffer that grows to CORSCTL_LINE_MAX bytes at most (a longer line is
 * skipped to its end, never stored), parsed by jansson (strict RFC 8259,
 * duplicate keys refused: tools/common/json_int.h) and checked strictly,
 * so that a typo in a key is an error and never a silently absent header.
 * A bad line is answered with {"error":"line N: ..."} and the batch goes
 * on.  Strings are handed to decide() by length: a \u0000 in a value is a
 * byte like any other, which decide() denies, never a place to cut.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/json_int.h"
#include "answer_int.h"
#include "batch_int.h"

/* Room for error messages; keys quoted in them are cut to KEY_QUOTE_MAX
 * bytes (at a character boundary, "..." after). */
#define ERR_MAX	      512
#define KEY_QUOTE_MAX 64

enum key { K_POLICY, K_ORIGIN, K_METHOD, K_ACRM, K_ACRH, K_ACRPN, K__COUNT };

static const char *const key_names[K__COUNT] = {
	[K_POLICY] = "policy", [K_ORIGIN] = "origin", [K_METHOD] = "method",
	[K_ACRM] = "acrm",     [K_ACRH] = "acrh",     [K_ACRPN] = "acrpn",
};

/* A growable byte buffer, reused from line to line. */
struct buf {
	char *p;
	size_t len;
	size_t cap;
};

static bool
buf_add(struct buf *b, const char *p, size_t len)
{
	size_t cap = b->cap ? b->cap : 256;
	char *np;

	/* Storage even for no bytes: p == NULL would be an absent value. */
	if (b->len + len > b->cap || !b->p) {
		while (cap < b->len + len)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return false;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	return true;
}

/* One request line.  The strings point into the parsed line (or into
 * acrh, for an array); p == NULL is an absent header. */
struct line_req {
	struct corsd_str f[K__COUNT]; /* K_ACRPN unused: it is a boolean */
	bool acrpn;
	struct buf acrh; /* an "acrh" array, joined */
};

static void __attribute__((format(printf, 3, 4)))
fail(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

static struct corsd_str
str_of(const json_t *v)
{
	struct corsd_str s = {json_string_value(v), json_string_length(v)};

	return s;
}

/* The value of "acrh": a string, or an array of strings joined with ','
 * as several header lines would be ([] is no header at all). */
static bool
parse_acrh(const json_t *v, struct line_req *r, char *err, size_t size)
{
	if (json_is_string(v)) {
		r->f[K_ACRH] = str_of(v);
		return true;
	}
	if (!json_is_array(v))
		goto wrong;
	r->acrh.len = 0;
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *e = json_array_get(v, i);

		if (!json_is_string(e))
			goto wrong;
		if ((i && !buf_add(&r->acrh, ",", 1)) ||
		    !buf_add(&r->acrh, json_string_value(e),
			     json_string_length(e))) {
			fail(err, size, "out of memory");
			return false;
		}
	}
	if (json_array_size(v)) {
		r->f[K_ACRH].p = r->acrh.p;
		r->f[K_ACRH].len = r->acrh.len;
	}
	return true;
wrong:
	fail(err, size, "'acrh' must be a string, an array of strings or null");
	return false;
}

/* "'key'" for a message: cut to KEY_QUOTE_MAX bytes, at the start of a
 * UTF-8 sequence (jansson gave us valid UTF-8), with "..." when cut. */
static void
quote_key(const char *k, size_t len, char *q, size_t size)
{
	size_t n = len;

	if (n > KEY_QUOTE_MAX) {
		n = KEY_QUOTE_MAX;
		while (n > 0 && ((unsigned char)k[n] & 0xc0) == 0x80)
			n--;
	}
	snprintf(q, size, "'%.*s%s'", (int)n, k, n < len ? "..." : "");
}

/*
 * Check the object @o into @r.  Return: true, or false with the reason
 * in @err.
 */
static bool
parse_request(json_t *o, struct line_req *r, char *err, size_t size)
{
	memset(r->f, 0, sizeof(r->f));
	r->acrpn = false;
	if (!json_is_object(o)) {
		fail(err, size, "not a JSON object");
		return false;
	}
	/* Keys are unique: jansson refused the line otherwise. */
	for (void *it = json_object_iter(o); it;
	     it = json_object_iter_next(o, it)) {
		const char *key = json_object_iter_key(it);
		size_t klen = json_object_iter_key_len(it);
		const json_t *v = json_object_iter_value(it);
		char q[KEY_QUOTE_MAX + 8];
		int k;

		for (k = 0; k < K__COUNT; k++)
			if (strlen(key_names[k]) == klen &&
			    memcmp(key_names[k], key, klen) == 0)
				break;
		if (k == K__COUNT) {
			/* NUL bytes in keys jansson refuses: %s is whole. */
			quote_key(key, klen, q, sizeof(q));
			fail(err, size,
			     "unknown key %s; a request has policy, origin, "
			     "method, acrm, acrh and acrpn",
			     q);
			return false;
		}
		/* null is the same as leaving the key out: header absent. */
		if (json_is_null(v))
			continue;
		if (k == K_ACRPN) {
			if (!json_is_boolean(v)) {
				fail(err, size,
				     "'acrpn' must be true, false or null");
				return false;
			}
			r->acrpn = json_is_true(v);
		} else if (k == K_ACRH) {
			if (!parse_acrh(v, r, err, size))
				return false;
		} else if (json_is_string(v)) {
			r->f[k] = str_of(v);
		} else {
			fail(err, size, "'%s' must be a string or null",
			     key_names[k]);
			return false;
		}
	}
	return true;
}

/*
 * Read one line into @b (its newline, and a CR before it, dropped).
 * Return: 1 with *too_long set when the line had more than
 * CORSCTL_LINE_MAX bytes (then @b holds none of it), 0 at end of input,
 * -1 on a read error or when memory ran out (errno says which).
 */
static int
read_line(FILE *in, struct buf *b, bool *too_long)
{
	char chunk[4096];
	size_t n = 0, total = 0;
	bool any = false;
	int c;

	b->len = 0;
	*too_long = false;
	while ((c = getc_unlocked(in)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		/* Past the bound: drain to the newline, keep nothing. */
		if (++total > CORSCTL_LINE_MAX + 1) {
			*too_long = true;
			continue;
		}
		chunk[n++] = (char)c;
		if (n == sizeof(chunk)) {
			if (!buf_add(b, chunk, n))
				return -1;
			n = 0;
		}
	}
	if (ferror(in))
		return -1;
	if (!any)
		return 0;
	if (!buf_add(b, chunk, n))
		return -1;
	if (b->len && b->p[b->len - 1] == '\r')
		b->len--;
	if (*too_long || b->len > CORSCTL_LINE_MAX) {
		*too_long = true;
		b->len = 0;
	}
	return 1;
}

static bool
is_blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* {"error":"line N: @msg"}.  Return: 0 or -CORSD_E*. */
static int
print_error(FILE *out, unsigned long line, const char *msg)
{
	char text[ERR_MAX + 32];
	int n = snprintf(text, sizeof(text), "line %lu%s%s", line,
			 strncmp(msg, "column ", 7) ? ": " : ", ", msg);

	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(text))
		n = (int)sizeof(text) - 1;
	return corsd_json_print(
		out,
		json_pack("{so}", "error", corsd_json_bytes(text, (size_t)n)));
}

long
corsctl_batch_run(const struct corsctl_batch *b, FILE *in, FILE *out)
{
	struct corsd_answer *ans = malloc(sizeof(*ans));
	struct buf line = {NULL, 0, 0};
	struct line_req r;
	unsigned long lineno = 0;
	long errors = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	if (!ans) {
		errno = ENOMEM;
		return -1;
	}
	for (;;) {
		struct corsd_request req;
		char err[ERR_MAX];
		json_t *v = NULL;
		size_t skip = 0;
		bool too_long;

		rc = read_line(in, &line, &too_long);
		if (rc < 0) {
			errors = -1;
			break;
		}
		if (rc == 0)
			break;
		lineno++;
		err[0] = '\0';
		if (too_long) {
			snprintf(err, sizeof(err),
				 "longer than %u bytes (%u MiB); a line is one "
				 "request",
				 (unsigned)CORSCTL_LINE_MAX,
				 (unsigned)CORSCTL_LINE_MAX >> 20);
			goto answer;
		}
		/* A UTF-8 byte order mark may open the file. */
		if (lineno == 1 && line.len >= 3 &&
		    memcmp(line.p, "\xef\xbb\xbf", 3) == 0)
			skip = 3;
		if (is_blank(line.p + skip, line.len - skip))
			continue;
		v = corsd_json_parse(line.p + skip, line.len - skip, err,
				     sizeof(err));
		if (!v || !parse_request(v, &r, err, sizeof(err)))
			goto answer;
		req.policy = r.f[K_POLICY];
		if (!req.policy.p)
			req.policy = b->default_policy;
		if (!req.policy.p) {
			snprintf(err, sizeof(err),
				 "no \"policy\" and no -p, and the file does "
				 "not have exactly one policy (%s)",
				 b->policy_names);
			goto answer;
		}
		req.method = r.f[K_METHOD];
		if (!req.method.p) {
			req.method.p = "GET";
			req.method.len = 3;
		}
		req.origin = r.f[K_ORIGIN];
		req.acrm = r.f[K_ACRM];
		req.acrh = r.f[K_ACRH];
		req.acrpn.p = r.acrpn ? "true" : NULL;
		req.acrpn.len = r.acrpn ? 4 : 0;
		b->decide(b->ctx, &req, ans);
	answer:
		if (err[0]) {
			errors++;
			rc = print_error(out, lineno, err);
		} else {
			rc = corsctl_answer_json(out, ans);
		}
		json_decref(v);
		if (rc != 0) {
			errno = rc == -CORSD_ENOMEM ? ENOMEM : EIO;
			errors = -1;
			break;
		}
		if (b->flush_each)
			fflush(out);
	}
	free(r.acrh.p);
	free(line.p);
	free(ans);
	return errors;
}
