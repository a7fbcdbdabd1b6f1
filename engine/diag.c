/*
 * diag.c - the diagnostics list that loaders fill and tools print.
 *
 * Layer: engine.  Owned by the caller; grows with realloc, never shrinks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
