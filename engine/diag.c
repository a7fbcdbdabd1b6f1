/*
 * diag.c - the diagnostics list that loaders fill and tools print, and
 * the helpers every message uses: the quoted subject, did-you-mean.
 *
 * Layer: engine.  The list is owned by the caller; it grows with realloc,
 * never shrinks.  Messages follow STYLE.md: lower case, what is wrong
 * first, the subject quoted by corsd_quote()'s one rule (diag_int.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii_int.h"
#include "diag_int.h"

static const char *const rule_ids[] = {
#define CORSD_RULE(name, id, doc) [CORSD_RULE_##name] = id,
#include "corsd/tbl_rules.h"
#undef CORSD_RULE
};

const char *
corsd_rule_id(enum corsd_rule rule)
{
	if ((unsigned)rule >= CORSD_RULE__COUNT)
		return "?";
	return rule_ids[rule];
}

void
corsd_diags_init(struct corsd_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void
corsd_diags_release(struct corsd_diags *d)
{
	if (!d)
		return;
	free(d->file);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int
corsd_diags_set_file(struct corsd_diags *d, const char *file)
{
	char *copy = strdup(file ? file : "<input>");

	if (!copy)
		return -CORSD_ENOMEM;
	free(d->file);
	d->file = copy;
	return 0;
}

void
corsd_diag_add(struct corsd_diags *d, enum corsd_severity sev,
	       enum corsd_rule rule, uint32_t line, uint32_t column,
	       const char *fmt, ...)
{
	struct corsd_diag *x;
	va_list ap;

	/* Counted first: a dropped message must still fail the load. */
	if (sev == CORSD_SEV_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct corsd_diag *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return;
		d->v = v;
		d->cap = cap;
	}
	x = &d->v[d->n++];
	x->severity = sev;
	x->rule = rule;
	x->line = line;
	x->column = column;
	va_start(ap, fmt);
	vsnprintf(x->message, sizeof(x->message), fmt, ap);
	va_end(ap);
}

int
corsd_diags_format(const struct corsd_diags *d, size_t i, char *buf,
		   size_t size)
{
	const struct corsd_diag *x;

	if (i >= d->n)
		return snprintf(buf, size, "%s", "");
	x = &d->v[i];
	return snprintf(buf, size, "%s:%u:%u: %s: %s [%s]",
			d->file ? d->file : "<input>", x->line, x->column,
			x->severity == CORSD_SEV_ERROR ? "error" : "warning",
			x->message, corsd_rule_id(x->rule));
}

struct corsd_quoted
corsd_quote(const char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	struct corsd_quoted q;
	size_t o = 0, i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		size_t w = c == '\\' ? 2 : c >= 0x20 && c < 0x7f ? 1 : 4;

		if (o + w > CORSD_QUOTE_SHOWN)
			break;
		if (w == 1) {
			q.s[o++] = (char)c;
		} else if (w == 2) {
			q.s[o++] = '\\';
			q.s[o++] = '\\';
		} else {
			q.s[o++] = '\\';
			q.s[o++] = 'x';
			q.s[o++] = hex[c >> 4];
			q.s[o++] = hex[c & 15];
		}
	}
	if (i < len) {
		memcpy(q.s + o, "...", 3);
		o += 3;
	}
	q.s[o] = '\0';
	return q;
}

#define DID_YOU_MEAN_MAX 32

/* Optimal string alignment distance, ASCII case folded; both <= 32. */
static size_t
edit_distance(const char *a, size_t al, const char *b, size_t bl)
{
	size_t d[DID_YOU_MEAN_MAX + 1][DID_YOU_MEAN_MAX + 1];

	for (size_t i = 0; i <= al; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= bl; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= al; i++) {
		for (size_t j = 1; j <= bl; j++) {
			unsigned char x = (unsigned char)a[i - 1];
			unsigned char y = (unsigned char)b[j - 1];
			size_t best;

			best = d[i - 1][j - 1] +
			       (corsd_ascii_lower(x) != corsd_ascii_lower(y));
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			/* The swap is compared byte-exact, as it always was. */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[al][bl];
}

const char *
corsd_did_you_mean(const char *key, size_t len, const char *const *known,
		   size_t n)
{
	const char *best = NULL;
	size_t best_d = 3;

	if (len == 0 || len > DID_YOU_MEAN_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(known[i]);
		size_t dist;

		if (kl > DID_YOU_MEAN_MAX)
			continue;
		dist = edit_distance(key, len, known[i], kl);
		/* A short key is near everything: ask for a third right. */
		if (dist < best_d && dist * 3 <= len) {
			best = known[i];
			best_d = dist;
		}
	}
	return best;
}
