/*
 * answer.c - corsctl writes an answer: as JSON (jansson) or as text.
 *
 * Layer: tools/corsctl.  Answers hold bytes that came from requests
 * (echoed origins, reflected header names); jansson escapes them for
 * JSON, corsctl_text_str() for a terminal.
 */
#include <stdio.h>
#include <string.h>

#include "../common/json_int.h"
#include "answer_int.h"

/* The reason line of @ans into @buf; its length. */
static size_t
reason_of(const struct corsd_answer *ans, char *buf, size_t size)
{
	int n = corsd_answer_reason(ans, buf, size);

	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

static unsigned
nheaders(const struct corsd_answer *ans)
{
	return ans->nheaders < CORSD_ANSWER_HEADERS_MAX
		       ? ans->nheaders
		       : CORSD_ANSWER_HEADERS_MAX;
}

int
corsctl_answer_json(FILE *f, const struct corsd_answer *ans)
{
	char reason[CORSD_ANSWER_SUBJECT_MAX + 256];
	size_t rlen = reason_of(ans, reason, sizeof(reason));
	json_t *headers = json_array(), *o;

	for (unsigned i = 0; headers && i < nheaders(ans); i++) {
		struct corsd_str name = corsd_answer_header_name(ans, i);
		struct corsd_str value = corsd_answer_header_value(ans, i);

		/* "o" takes the references, NULL ones too (then fails). */
		if (json_array_append_new(
			    headers,
			    json_pack("[oo]",
				      corsd_json_bytes(name.p, name.len),
				      corsd_json_bytes(value.p, value.len)))) {
			json_decref(headers);
			headers = NULL;
		}
	}
	o = json_pack("{sssIsososo}", "verdict",
		      corsd_verdict_name(ans->verdict), "status",
		      (json_int_t)ans->status, "headers", headers, "max_age",
		      ans->max_age == CORSD_MAX_AGE_NONE
			      ? json_null()
			      : json_integer((json_int_t)ans->max_age),
		      "reason", corsd_json_bytes(reason, rlen));
	return corsd_json_print(f, o);
}

void
corsctl_answer_text(FILE *f, const struct corsd_answer *ans)
{
	char reason[CORSD_ANSWER_SUBJECT_MAX + 256];
	size_t rlen = reason_of(ans, reason, sizeof(reason));

	fprintf(f, "verdict: %s\n", corsd_verdict_name(ans->verdict));
	if (ans->status)
		fprintf(f, "status: %u\n", (unsigned)ans->status);
	else
		fprintf(f, "status: -\n");
	for (unsigned i = 0; i < nheaders(ans); i++) {
		struct corsd_str name = corsd_answer_header_name(ans, i);
		struct corsd_str value = corsd_answer_header_value(ans, i);

		corsctl_text_str(f, name.p, name.len);
		fputs(": ", f);
		corsctl_text_str(f, value.p, value.len);
		putc('\n', f);
	}
	if (ans->max_age == CORSD_MAX_AGE_NONE)
		fprintf(f, "max-age: -\n");
	else
		fprintf(f, "max-age: %lu\n", (unsigned long)ans->max_age);
	fputs("reason: ", f);
	corsctl_text_str(f, reason, rlen);
	putc('\n', f);
}

void
corsctl_text_str(FILE *f, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\\')
			fputs("\\\\", f);
		else if (c >= 0x20 && c < 0x7f)
			putc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
}
